"""Rule oip_nodes: one OIP per node (i, j) of chosen maps, as arrays, figures and a table."""

from cnnlens import runtime

inputs, output, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0], snakemake.threads) as log:  # noqa: F821
    from cnnlens import oip
    from cnnlens.model import load_cnn
    from cnnlens.plotting.oip import plot_node_layer

    runtime.make_deterministic(params.seed)
    settings = oip.SearchSettings.from_config(params.search, params.seed)
    layer, maps = params.nodes["layer"], params.nodes["maps"]
    log.info("node OIPs of %s maps %s on %s", layer, maps, runtime.describe_device())
    result = oip.search_nodes(load_cnn(inputs.model), layer, maps, settings)
    oip.save_nodes(result, output.arrays, output.summary)
    plot_node_layer(result, output.figures, params.colormap)
