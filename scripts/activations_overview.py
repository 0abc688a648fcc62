"""Rule activation_overview: one page per selected test image, from pixels to decision."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821
wildcards = snakemake.wildcards  # noqa: F821

with runtime.script_run(snakemake.log[0]):  # noqa: F821
    from cnnlens import activations
    from cnnlens.plotting.activations import plot_overview

    index = int(wildcards.index)
    example_set = activations.load_example_set(inputs.activations)
    settings = activations.GridSettings.from_config(params.grid)
    grids = activations.example_grids(example_set, index, settings)
    plot_overview(
        example_set.example(index), example_set.image(index), grids, settings.colormap,
        outputs.figure,
    )
