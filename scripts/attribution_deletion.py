"""Rule attribution_deletion: each method's deletion curve (most-attributed pixels set to the
black baseline first) and random deletion's, averaged over the first test images."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope, so that TensorFlow's start-up messages go to the log.
    from cnnlens import device, settings
    from cnnlens.attribution import stage
    from cnnlens.attribution.deletion import curve_rows, summary_rows
    from cnnlens.errors import CnnLensError
    from cnnlens.files import load_array, write_csv
    from cnnlens.model import load_cnn
    from cnnlens.preprocessing import from_manifest

    log.info("deletion curves on %s", device.prepare(snakemake.threads, params.seed))  # noqa: F821
    methods = settings.build(settings.AttributionMethods, params.methods)
    images = load_array(inputs.test_imgs)
    if params.images > len(images):
        raise CnnLensError(
            f"attribution.deletion_images {params.images} exceeds the {len(images)} test "
            "images; lower it or raise data.subset.test"
        )
    preparation = from_manifest(inputs.manifest)
    attributor = stage.attributor_for(
        load_cnn(inputs.model), params.layer, methods, preparation, params.seed
    )
    curves = stage.deletion_study(attributor, images[: params.images], params.step,
                                  params.seed)
    summary = summary_rows(curves, params.step)
    for row in summary:
        log.info("%s: area %s", row["method"], row["area"])
    write_csv(outputs.curves, curve_rows(curves, params.step))
    write_csv(outputs.summary, summary)
