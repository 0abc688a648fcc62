"""Rule attribution: every method for each selected test image's predicted class and
runner-up, and from each class back to the last conv layer's maps (activation x gradient)."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope, so that TensorFlow's start-up messages go to the log.
    import numpy as np
    from cnnlens import device, settings
    from cnnlens.attribution import stage
    from cnnlens.attribution.maps import map_rows
    from cnnlens.attribution.records import save_selected
    from cnnlens.files import load_array, read_csv, write_csv
    from cnnlens.model import load_cnn
    from cnnlens.preprocessing import from_manifest

    log.info("attributing on %s", device.prepare(snakemake.threads, params.seed))  # noqa: F821
    methods = settings.build(settings.AttributionMethods, params.methods)
    preparation = from_manifest(inputs.manifest)
    attributor = stage.attributor_for(
        load_cnn(inputs.model), params.layer, methods, preparation, params.seed
    )
    indices = np.array([int(row["index"]) for row in read_csv(inputs.examples)], dtype=np.int64)
    images, labels = load_array(inputs.test_imgs), load_array(inputs.y_test)
    selected = stage.explain_selected(attributor, images[indices], indices, labels[indices])
    log.info("%d images, 2 classes each, Grad-CAM and map ranking on %s", len(indices),
             params.layer)
    save_selected(outputs.attributions, selected)
    write_csv(outputs.maps, map_rows(selected, params.class_names))
