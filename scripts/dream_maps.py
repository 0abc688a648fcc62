"""Rule dream_maps: single-map dreams of one photo, all maps in one batch."""

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0], snakemake.threads) as log:  # noqa: F821
    # Imported here so that TensorFlow's start-up messages go to the log.
    from cnnlens import dream
    from cnnlens.files import load_array, read_csv
    from cnnlens.model import load_cnn
    from cnnlens.plotting.dream import write_map_renders

    runtime.make_deterministic(params.seed)
    log.info("computing on %s", runtime.describe_device())
    top = params.single_map["top_oip_maps"]
    best = dream.top_oip_maps(read_csv(inputs.oip_summary), top) if top else []
    settings = dream.SingleMapSettings.from_config(params.single_map, best)
    log.info("dreaming %s maps %s (best OIPs: %s) on %s", settings.layer, settings.maps, best,
             params.photo)
    photo = load_array(inputs.photo)
    dreams = dream.single_map_dreams(load_cnn(inputs.model), photo, settings)
    records = dream.single_map_metrics(dreams, params.photo, settings)
    for record in records:
        log.info("%s", record.record())
    oips = dream.map_oips(inputs.oips, settings.maps)
    write_map_renders(outputs.directory, photo, dreams, records, oips)
