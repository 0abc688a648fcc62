"""Rule activation_index: a Markdown page linking every selected image's overview and grids."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]):  # noqa: F821
    from cnnlens.activations.examples import examples_index
    from cnnlens.files import read_csv, write_text

    write_text(outputs.index, examples_index(read_csv(inputs.examples), params.layers))
