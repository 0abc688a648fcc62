"""Rule activation_figures: every selected test image's grid of maps (or nodes) per layer and
its overview page from pixels to decision, and the index linking them. Needs no TensorFlow."""

import os

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    from cnnlens import settings
    from cnnlens.activations.example_set import load_example_set
    from cnnlens.activations.examples import example_rows, examples_index
    from cnnlens.files import write_text
    from cnnlens.plotting.activations import plot_example_pages

    example_set = load_example_set(inputs.activations)
    class_names = tuple(params.class_names)
    grid = settings.build(settings.Grid, params.grid)
    plot_example_pages(example_set, params.layers, grid, outputs.figures, class_names)
    log.info("%d test images: every layer's grid and an overview page each",
             len(example_set.examples))
    rows = example_rows(example_set.examples, class_names)
    folder = os.path.relpath(outputs.figures, os.path.dirname(outputs.index))
    write_text(outputs.index, examples_index(rows, params.layers, folder))
