# The oip stage: an OIP for every map of the configured conv layers and every unit of the
# configured dense layers (a class's logit for the last layer).
#
# oip_search runs the batched gradient ascent for one chunk of a layer's maps (all maps and
# restarts of the chunk in one batch); oip.maps_per_job sets the chunk size (default: the
# whole layer in one job). Per layer, oip_gather_{layer} writes each map's OIP and the
# layer's summary.csv, and oip_figures_{layer} (no TensorFlow) draws the figures; they are
# rules per layer because their outputs list the layer's maps. oip_nodes searches one OIP
# per node (i, j) of chosen maps.

from cnnlens.oip.steps import layer_search_config

OIP = config["oip"]
# A layer's search depends on its own noise only (oip.noise.per_layer): its params carry that.
OIP_SEARCH = settings.keys_of(settings.OipSearch, OIP)
# The manifest says the model's input range (model.preprocessing), which the ascent keeps to.
MANIFEST = rules.prepare_data.output.manifest
OIP_INPUTS = {
    "model": MODEL_FILES.model,
    "test_imgs": rules.prepare_data.output.test_imgs,
    "manifest": MANIFEST,
}
NODE_DIRECTORY = f"results/oips/{OIP['node_oips']['layer']}/nodes"
# conv layers, then dense layers (their units are 1x1 maps to the search)
OIP_LAYERS = [*OIP["layers"], *plan.oip_dense_layers(SETTINGS, NETWORK)]


rule oip_search:
    """OIPs of one chunk of a layer's maps: start noise, precursor screen, batched ascent with
    revival, and the maps' activations on the test images for comparison."""
    input:
        **OIP_INPUTS,
        library=library_of("oip_search"),
    output:
        result="results/oips/{layer}/chunks/maps_{first}-{last}.npz",
    params:
        seed=config["seed"],
        search=lambda wildcards: layer_search_config(OIP_SEARCH, wildcards.layer),
    log:
        log_path("oip/search_{layer}_{first}-{last}"),
    benchmark:
        benchmark_path("oip/search_{layer}_{first}-{last}")
    threads: ASCENT_THREADS
    priority: LONG_JOB_PRIORITY
    # A whole layer (128 maps x 4 restarts x 400 steps): 0.85 GB and 20 to 35 s on one CPU core;
    # on a cluster one GPU and a short queue.
    resources:
        gpu=1,
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../../scripts/oip_search.py"


for oip_layer in OIP_LAYERS:

    rule:
        name:
            f"oip_gather_{oip_layer}"
        localrule: True  # light; made in a loop, so not in the Snakefile's localrules list
        input:
            chunks=plan.chunk_files(NETWORK, oip_layer, OIP["maps_per_job"]),
            library=library_of("oip_gather"),
        output:
            maps=plan.oip_files(NETWORK, oip_layer, ".npy"),
            summary=report(
                f"results/oips/{oip_layer}/summary.csv",
                caption="../report/oip_summary.rst",
                category="4 OIPs",
                subcategory=oip_layer,
                labels={"map": "all", "figure": "summary table"},
            ),
        log:
            log_path(f"oip/gather_{oip_layer}"),
        benchmark:
            benchmark_path(f"oip/gather_{oip_layer}")
        conda:
            CONDA_ENV
        script:
            "../../scripts/oip_gather.py"

    rule:
        name:
            f"oip_figures_{oip_layer}"
        localrule: True  # light; made in a loop, so not in the Snakefile's localrules list
        input:
            chunks=plan.chunk_files(NETWORK, oip_layer, OIP["maps_per_job"]),
            manifest=MANIFEST,
            library=library_of("oip_figures"),
        output:
            # per-map figures are not report entries: the atlas shows every map
            maps=plan.oip_files(NETWORK, oip_layer, ".png"),
            evolutions=plan.oip_files(NETWORK, oip_layer, "_evolution.png"),
            sheet=report(
                f"results/oips/{oip_layer}/sheet.png",
                caption="../report/oip_sheet.rst",
                category="4 OIPs",
                subcategory=oip_layer,
                labels={"map": "all", "figure": "sheet"},
            ),
        params:
            colormap=OIP["colormap"],
            # the output layer's units are the classes: its figures name them
            class_names=CLASS_NAMES if oip_layer == NETWORK.names[-1] else None,
        log:
            log_path(f"oip/figures_{oip_layer}"),
        benchmark:
            benchmark_path(f"oip/figures_{oip_layer}")
        conda:
            CONDA_ENV
        script:
            "../../scripts/oip_figures.py"

    TARGETS.extend(
        [
            *plan.oip_files(NETWORK, oip_layer, ".npy"),
            *plan.oip_files(NETWORK, oip_layer, ".png"),
            *plan.oip_files(NETWORK, oip_layer, "_evolution.png"),
            f"results/oips/{oip_layer}/summary.csv",
            f"results/oips/{oip_layer}/sheet.png",
        ]
    )


rule oip_nodes:
    """One OIP per node (i, j) of each chosen map: what maximising a single position gives."""
    input:
        model=MODEL_FILES.model,
        manifest=MANIFEST,
        library=library_of("oip_nodes"),
    output:
        arrays=plan.map_files(NODE_DIRECTORY, OIP["node_oips"]["maps"], ".npy"),
        figures=plan.map_files(NODE_DIRECTORY, OIP["node_oips"]["maps"], ".png"),
        summary=report(
            f"{NODE_DIRECTORY}/summary.csv",
            caption="../report/oip_nodes.rst",
            category="4 OIPs",
            subcategory=f"{OIP['node_oips']['layer']} nodes",
            labels={"map": "all", "figure": "summary table"},
        ),
    params:
        seed=config["seed"],
        search=layer_search_config(OIP_SEARCH, OIP["node_oips"]["layer"]),
        nodes=OIP["node_oips"],
        colormap=OIP["colormap"],
    log:
        log_path("oip/nodes"),
    benchmark:
        benchmark_path("oip/nodes")
    threads: ASCENT_THREADS
    resources:
        gpu=1,
        mem_mb=2000,
        runtime=15,
    conda:
        CONDA_ENV
    script:
        "../../scripts/oip_nodes.py"


if OIP["node_oips"]["maps"]:
    TARGETS.extend(rules.oip_nodes.output)
