"""Checkpoint select_examples: choose the test images to draw (clear, ambiguous, listed) and
read out their activations of every configured layer."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope, so that TensorFlow's start-up messages go to the log.
    from cnnlens import device, settings
    from cnnlens.activations import examples as selection
    from cnnlens.activations import readout
    from cnnlens.activations.example_set import save_example_set
    from cnnlens.files import load_array, write_csv
    from cnnlens.model import load_cnn

    log.info("reading out on %s", device.prepare(snakemake.threads))  # noqa: F821
    model = load_cnn(inputs.model)
    images, labels = load_array(inputs.test_imgs), load_array(inputs.y_test)
    chosen_by = settings.build(settings.Examples, params.examples)
    pairs = [(int(first), int(second)) for first, second in params.pairs]
    probabilities = readout.predict_probabilities(model, images)
    class_names = tuple(params.class_names)
    examples = selection.select_examples(probabilities, labels, chosen_by, pairs, class_names)
    if not examples:
        log.warning("no test image matches the selection in activations.examples")
    for example in examples:
        log.info("%s: %s", example.describe(class_names), "; ".join(example.reasons))
    example_set = readout.read_out_examples(model, images, examples, params.layers)
    save_example_set(outputs.activations, example_set)
    write_csv(outputs.examples, selection.example_rows(examples, class_names))
