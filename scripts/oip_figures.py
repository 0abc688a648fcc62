"""Rule oip_figures_{layer}: each map's OIP and evolution, and the layer's sheet."""

from cnnlens import runtime

inputs, output, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]):  # noqa: F821
    from cnnlens.oip.results import gather_chunks
    from cnnlens.plotting.oip import display_range_of, plot_layer
    from cnnlens.preprocessing import from_manifest

    display_range = display_range_of(from_manifest(inputs.manifest))
    plot_layer(gather_chunks(inputs.chunks), output.maps, output.evolutions, output.sheet,
               params.colormap, display_range, params.class_names)
