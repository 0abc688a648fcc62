"""Rule oip_nodes: one OIP per node (i, j) of chosen maps, as arrays, figures and a table."""

from cnnlens import runtime

inputs, output, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope: TensorFlow's start-up messages go to the log.
    from cnnlens import device, preprocessing, settings
    from cnnlens.model import load_cnn
    from cnnlens.oip import results
    from cnnlens.oip.search import search_nodes
    from cnnlens.plotting.oip import display_range_of, plot_node_layer

    device_name = device.prepare(snakemake.threads, params.seed)  # noqa: F821
    search = settings.build(settings.OipSearch, params.search)
    nodes = settings.build(settings.NodeOips, params.nodes)
    log.info("node OIPs of %s maps %s on %s", nodes.layer, list(nodes.maps), device_name)
    preparation = preprocessing.from_manifest(inputs.manifest)
    model = load_cnn(inputs.model)
    result = search_nodes(model, nodes.layer, nodes.maps, search, params.seed, preparation)
    results.save_nodes(result, output.arrays, output.summary)
    plot_node_layer(result, output.figures, params.colormap, display_range_of(preparation))
