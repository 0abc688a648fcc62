"""Rule dream_layers: classic DeepDream of one photo through whole layers, over octaves."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope: TensorFlow's start-up messages go to the log.
    import numpy as np

    from cnnlens import device, preprocessing, settings
    from cnnlens.dream.display import save_png
    from cnnlens.dream.octaves import layer_dream
    from cnnlens.dream.records import layer_metrics
    from cnnlens.files import load_array, write_json
    from cnnlens.model import load_cnn
    from cnnlens.plotting.dream import plot_octaves

    log.info("computing on %s", device.prepare(snakemake.threads, params.seed))  # noqa: F821
    layers = settings.build(settings.LayerDream, params.layers)
    photo = load_array(inputs.photo)
    dream = layer_dream(
        load_cnn(inputs.model), photo, layers, np.random.default_rng(params.seed),
        preprocessing.from_manifest(inputs.manifest), params.compute_dtype,
    )
    record = layer_metrics(dream, params.photo, layers)
    log.info("%s", record.record())
    save_png(dream.final, outputs.image)
    write_json(outputs.metrics, record.record())
    plot_octaves(photo, dream, record, outputs.figure)
