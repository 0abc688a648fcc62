"""Rule dream_fine: full-size dreams of one photo (finer length scales), in one batch."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0], snakemake.threads) as log:  # noqa: F821
    # Imported here so that TensorFlow's start-up messages go to the log.
    import numpy as np

    from cnnlens import dream
    from cnnlens.files import load_array
    from cnnlens.model import load_cnn
    from cnnlens.plotting.dream import write_fine_renders

    runtime.make_deterministic(params.seed)
    log.info("computing on %s", runtime.describe_device())
    settings = dream.FineDreamSettings.from_config(params.fine, params.layer)
    photo = load_array(inputs.photo)
    result = dream.fine_dreams(
        load_cnn(inputs.model), photo, settings, np.random.default_rng(params.seed)
    )
    records = dream.fine_metrics(result, params.photo, settings)
    for record in records:
        log.info("%s", record.record())
    write_fine_renders(outputs.images, outputs.metrics, outputs.figure, photo, result, records)
