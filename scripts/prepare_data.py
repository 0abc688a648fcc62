"""Rule prepare_data: obtain verified MNIST and save the six standardised splits."""

from cnnlens import data, mnist, settings
from cnnlens.files import write_json
from cnnlens.plotting.data import plot_data_overview
from cnnlens.runtime import script_run

outputs, params = snakemake.output, snakemake.params  # noqa: F821 - injected by Snakemake

with script_run(snakemake.log[0]) as log:  # noqa: F821
    options = settings.build(settings.Data, params.data)
    source = mnist.obtain(options.source_dir, options.download_cache)
    splits = data.make_splits(source, options.subset.train, options.subset.test)
    data.save_splits(splits, {name: outputs[name] for name in data.SPLIT_FILES})
    write_json(outputs.manifest, data.describe_splits(splits, source.route))
    plot_data_overview(splits, outputs.overview)
    log.info("saved %d training and %d test images", len(splits.y_train), len(splits.y_test))
