"""Rule dream_layers: classic DeepDream of one photo through whole layers, over octaves."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0], snakemake.threads) as log:  # noqa: F821
    # Imported here so that TensorFlow's start-up messages go to the log.
    import numpy as np

    from cnnlens import dream
    from cnnlens.files import load_array
    from cnnlens.model import load_cnn
    from cnnlens.plotting.dream import write_layer_render

    runtime.make_deterministic(params.seed)
    log.info("computing on %s", runtime.describe_device())
    settings = dream.LayerDreamSettings.from_config(params.layers)
    photo = load_array(inputs.photo)
    result = dream.layer_dream(
        load_cnn(inputs.model), photo, settings, np.random.default_rng(params.seed)
    )
    record = dream.layer_metrics(result, params.photo, settings)
    log.info("%s", record.record())
    write_layer_render(outputs.image, outputs.figure, outputs.metrics, photo, result, record)
