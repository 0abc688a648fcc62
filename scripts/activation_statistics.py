"""Rule activation_statistics: per class and unit, mean and variance of every configured
layer's activations over the test set, and each image's per-map means."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope, so that TensorFlow's start-up messages go to the log.
    from cnnlens import device
    from cnnlens.activations.readout import class_statistics
    from cnnlens.activations.statistics import save_class_statistics
    from cnnlens.files import load_array
    from cnnlens.model import load_cnn

    log.info("reading out on %s", device.prepare(snakemake.threads))  # noqa: F821
    model = load_cnn(inputs.model)
    images, labels = load_array(inputs.test_imgs), load_array(inputs.y_test)
    statistics = class_statistics(model, images, labels, params.layers)
    log.info("class statistics of %d test images for %s", len(labels), ", ".join(params.layers))
    save_class_statistics(outputs.statistics, statistics)
