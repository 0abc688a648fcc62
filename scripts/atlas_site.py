"""Rule atlas_site: the atlas's pages, pictures and top-k tables (no TensorFlow)."""

from pathlib import Path

from cnnlens import runtime

inputs, output, params = snakemake.input, snakemake.output, snakemake.params  # noqa: F821

with runtime.script_run(snakemake.log[0]) as log:  # noqa: F821
    from cnnlens import preprocessing, settings
    from cnnlens.atlas import imaging, sources
    from cnnlens.atlas.site import Look, build_site
    from cnnlens.files import load_array
    from cnnlens.network import Network

    chunks = {}
    for path in inputs.oip_chunks:  # results/oips/{layer}/chunks/maps_F-L.npz
        chunks.setdefault(Path(path).parents[1].name, []).append(path)
    labels, probabilities = sources.load_predictions(inputs.predictions)
    atlas = settings.build(settings.Atlas, params.atlas)
    data = sources.AtlasData(
        network=Network.from_json(Path(inputs.network).read_text()),
        tables=sources.load_tables(inputs.tables),
        test_images=sources.shown_images(load_array(inputs.test_imgs)),
        labels=labels,
        probabilities=probabilities,
        class_names=tuple(params.class_names),
        reasons=sources.load_reasons(inputs.examples),
        oips=sources.load_oips(chunks),
        node_layer=params.node_layer,
        node_oips=sources.load_node_oips(inputs.node_oips),
        effects=sources.load_effects(inputs.comparisons),
        dreams=sources.find_dreams(inputs.dream_maps, inputs.fine_dreams, params.dream_layer),
    )
    shown_over = imaging.display_range(preprocessing.from_manifest(inputs.manifest))
    look = Look(atlas.thumbnail_scale, atlas.image_units, params.oip_colormap, params.tile_colormap,
                atlas.frame_ms, shown_over)
    counts = build_site(data, output.site, look)
    log.info("atlas written to %s: %s", output.site, counts)
