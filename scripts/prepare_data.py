"""Rule prepare_data: obtain verified MNIST and save the six standardised splits."""

from cnnlens import data, mnist
from cnnlens.files import write_json
from cnnlens.plotting.data import plot_data_overview
from cnnlens.runtime import script_run

outputs, params = snakemake.output, snakemake.params  # noqa: F821 - injected by Snakemake

with script_run(snakemake.log[0]) as log:  # noqa: F821
    source = mnist.obtain(params.source_dir, params.download_cache)
    splits = data.make_splits(source, params.subset["train"], params.subset["test"])
    data.save_splits(splits, dict(outputs.items()))
    write_json(outputs.manifest, data.describe_splits(splits, source.route))
    plot_data_overview(splits, outputs.overview)
    log.info("saved %d training and %d test images", len(splits.y_train), len(splits.y_test))
