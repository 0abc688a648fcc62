"""Rule activation_grid: one layer's maps (or nodes) for one selected test image."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
wildcards = snakemake.wildcards  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    from cnnlens import activations
    from cnnlens.plotting.activations import plot_layer_grid

    index, layer = int(wildcards.index), wildcards.layer
    example_set = activations.load_example_set(inputs.activations)
    settings = activations.GridSettings.from_config(params.grid)
    grid = activations.layer_grid(layer, example_set.activation(layer, index), settings)
    plot_layer_grid(grid, example_set.example(index), settings.colormap, outputs.figure)
    log.info("%s of test image %d: %d tiles in %d x %d", layer, index, grid.count, grid.rows,
             grid.columns)
