"""Rule prepare_data: obtain verified MNIST and save the six standardised splits."""

from cnnlens import data, mnist
from cnnlens.files import write_json
from cnnlens.runtime import script_run

with script_run(snakemake.log[0]) as log:  # noqa: F821 - injected by Snakemake
    params = snakemake.params  # noqa: F821
    source = mnist.obtain(params.source_dir, params.download_cache)
    splits = data.make_splits(source, params.subset["train"], params.subset["test"])
    data.save_splits(splits, dict(snakemake.output.items()))  # noqa: F821
    write_json(snakemake.output.manifest, data.describe_splits(splits, source.route))  # noqa: F821
    log.info("saved %d training and %d test images", len(splits.y_train), len(splits.y_test))
