"""Rule prepare_data: obtain the configured data set (verified where published digests exist)
and save the six prepared splits, the manifest and the overview figure."""

from cnnlens import data, preprocessing, settings
from cnnlens.files import write_json
from cnnlens.plotting.data import plot_data_overview
from cnnlens.runtime import script_run

outputs, params = snakemake.output, snakemake.params  # noqa: F821 - injected by Snakemake

with script_run(snakemake.log[0]) as log:  # noqa: F821
    options = settings.build(settings.Data, params.data)
    class_names = tuple(params.class_names)
    source = data.obtain(options)
    subset = options.subset
    preparation = preprocessing.fit(
        params.preprocessing, data.first_n(source.train_images, subset.train)
    )
    splits = data.make_splits(source, preparation, len(class_names), subset.train, subset.test)
    data.save_splits(splits, {name: outputs[name] for name in data.SPLIT_FILES})
    limits = {"train": subset.train, "test": subset.test}
    manifest = data.describe(source, splits, options.dataset, class_names, preparation, limits)
    write_json(outputs.manifest, manifest)
    value_range = (preparation.low, preparation.high) if preparation.bounded else None
    plot_data_overview(splits, class_names, outputs.overview, value_range)
    log.info(
        "saved %d training and %d test images of %s (%d classes, preprocessing %s)",
        len(splits.y_train),
        len(splits.y_test),
        options.dataset,
        len(class_names),
        preparation.kind,
    )
