"""Rule activation_figures: every layer's grid of maps (or nodes) for one selected test image,
and its overview page from pixels to decision. Needs no TensorFlow."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
wildcards = snakemake.wildcards  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    from cnnlens import settings
    from cnnlens.activations.example_set import load_example_set
    from cnnlens.activations.grids import layer_grids
    from cnnlens.plotting.activations import plot_layer_grid, plot_overview

    index = int(wildcards.index)
    grid = settings.build(settings.Grid, params.grid)
    example_set = load_example_set(inputs.activations)
    example = example_set.example(index)
    activations = example_set.activations_of(index, params.layers)
    class_names = tuple(params.class_names)
    grids = layer_grids(activations, grid, example_set.output_layer, class_names)
    for layer_grid, path in zip(grids, outputs.grids, strict=True):
        plot_layer_grid(layer_grid, example, grid.colormap, path, class_names)
        log.info("%s: %d tiles in %d x %d", layer_grid.layer, layer_grid.count,
                 layer_grid.rows, layer_grid.columns)
    plot_overview(
        example, example_set.image(index), grids, grid.colormap, outputs.overview, class_names
    )
