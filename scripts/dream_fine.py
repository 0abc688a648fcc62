"""Rule dream_fine: full-size dreams of one photo (finer length scales), in one batch."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope: TensorFlow's start-up messages go to the log.
    import numpy as np

    from cnnlens import device, preprocessing, settings
    from cnnlens.dream.display import save_png
    from cnnlens.dream.full_size import fine_dreams
    from cnnlens.dream.records import fine_metrics
    from cnnlens.files import load_array, write_json
    from cnnlens.model import load_cnn
    from cnnlens.plotting.dream import plot_fine

    log.info("computing on %s", device.prepare(snakemake.threads, params.seed))  # noqa: F821
    fine = settings.build(settings.FineDream, params.fine)
    photo = load_array(inputs.photo)
    dreams = fine_dreams(
        load_cnn(inputs.model), photo, fine, params.layer, np.random.default_rng(params.seed),
        preprocessing.from_manifest(inputs.manifest), params.compute_dtype,
    )
    renders = fine_metrics(dreams, params.photo, fine, params.layer)
    files = zip(outputs.images, outputs.metrics)
    for (image, metrics), final, record in zip(files, dreams.final, renders):
        log.info("%s", record.record())
        save_png(final, image)
        write_json(metrics, record.record())
    plot_fine(photo, dreams, renders, outputs.figure)
