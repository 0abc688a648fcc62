"""Rule dream_maps: single-map dreams of one photo, all maps in one batch."""

from pathlib import Path

from cnnlens import runtime

inputs, outputs, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    # Imported inside the log's scope: TensorFlow's start-up messages go to the log.
    from cnnlens import device, preprocessing, settings
    from cnnlens.dream import records
    from cnnlens.dream.display import save_png
    from cnnlens.dream.names import map_name
    from cnnlens.dream.oip_maps import map_oips, top_oip_maps
    from cnnlens.dream.single_map import single_map_dreams
    from cnnlens.files import load_array, read_csv, write_json
    from cnnlens.model import load_cnn
    from cnnlens.plotting.dream import plot_map_dreams

    log.info("computing on %s", device.prepare(snakemake.threads, params.seed))  # noqa: F821
    single_map = settings.build(settings.SingleMap, params.single_map)
    top = single_map.top_oip_maps
    best = top_oip_maps(read_csv(inputs.oip_summary), top) if top else []
    log.info("dreaming %s maps %s and the best OIPs %s on %s", single_map.layer,
             list(single_map.maps), best, params.photo)
    photo = load_array(inputs.photo)
    preparation = preprocessing.from_manifest(inputs.manifest)
    dreams = single_map_dreams(
        load_cnn(inputs.model), photo, single_map, best, preparation, params.compute_dtype
    )
    renders = records.single_map_metrics(dreams, params.photo, single_map)
    for index, final, record in zip(dreams.maps, dreams.final, renders):
        log.info("%s", record.record())
        folder = Path(outputs.directory) / map_name(index)
        save_png(final, folder / "dream.png")
        write_json(folder / "metrics.json", record.record())
    oips = map_oips(inputs.oips, dreams.maps, dreams.small.shape[1:])
    plot_map_dreams(outputs.directory, photo, dreams, renders, oips)
