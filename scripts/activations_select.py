"""Checkpoint select_examples: choose the test images to draw and read out their activations."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0], snakemake.threads) as log:  # noqa: F821
    # Imported here so that TensorFlow's start-up messages go to the log.
    from cnnlens import activations
    from cnnlens.files import load_array, write_csv
    from cnnlens.model import load_cnn

    model = load_cnn(inputs.model)
    images, labels = load_array(inputs.test_imgs), load_array(inputs.y_test)
    settings = activations.ExampleSettings.from_config(params.examples, params.pairs)
    probabilities = activations.predict_probabilities(model, images)
    examples = activations.select_examples(probabilities, labels, settings)
    if not examples:
        log.warning("no test image matches the selection in activations.examples")
    for example in examples:
        log.info("%s: %s", example.describe(), "; ".join(example.reasons))
    example_set = activations.read_out_examples(model, images, examples, params.layers)
    activations.save_example_set(outputs.activations, example_set)
    write_csv(outputs.examples, activations.example_rows(examples))
