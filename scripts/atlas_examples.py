"""Rule atlas_examples: every test image through the model once; per unit its top-k test
images (by activation and by best position), its class profile, and the selected images'
activations."""

from cnnlens import runtime

inputs, output, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope: TensorFlow's start-up messages go to the log.
    from cnnlens import device
    from cnnlens.atlas.readout import read_layers
    from cnnlens.atlas.records import unit_table
    from cnnlens.atlas.sources import load_reasons
    from cnnlens.files import load_array, save_arrays
    from cnnlens.model import load_cnn

    device_name = device.prepare(snakemake.threads, params.seed)  # noqa: F821
    model = load_cnn(inputs.model)
    images, labels = load_array(inputs.test_imgs), load_array(inputs.y_test)
    selected = list(load_reasons(inputs.examples))
    log.info("reading %d test images through %s on %s", len(images), params.layers, device_name)
    readouts, probabilities = read_layers(model, images, params.layers, selected)
    classes = probabilities.shape[1]
    for readout, path in zip(readouts, output.tables, strict=True):
        unit_table(readout, selected, labels, classes, params.top_k).save(path)
    save_arrays(output.predictions, {"labels": labels, "probabilities": probabilities})
