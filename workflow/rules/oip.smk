# Rules of the oip stage (SPEC 4): an OIP for every map of the configured conv layers.
#
# oip_search runs the batched gradient ascent for one chunk of a layer's maps (all maps and
# restarts of the chunk in one batch); oip.maps_per_job sets the chunk size (default: the
# whole layer in one job). Per layer, oip_gather_{layer} writes each map's OIP and the
# layer's summary.csv, and oip_figures_{layer} (matplotlib only) draws the figures; they are
# generated per layer because their outputs list the layer's maps. oip_nodes searches one OIP
# per node (i, j) of chosen maps.

from snakemake.exceptions import WorkflowError

from cnnlens.errors import CnnLensError
from cnnlens.model import LAYER_TABLE
from cnnlens.oip import check_config, chunk_files, map_files, search_config

OIP = config["oip"]
OIP_SEARCH_INPUTS = {
    "model": "results/model/cnn.keras",
    "test_imgs": "results/data/test_imgs.npy",
}
# Per layer: its number of maps, its chunks' search results, and its per-map files.
OIP_MAPS = {name: shape[-1] for name, shape, _ in LAYER_TABLE}
try:
    check_config(OIP, config["seed"], OIP_MAPS)
except CnnLensError as error:
    raise WorkflowError(str(error)) from None
OIP_CHUNKS = {
    layer: chunk_files(layer, OIP_MAPS[layer], OIP["maps_per_job"]) for layer in OIP["layers"]
}
OIP_FILES = {
    (layer, suffix): map_files(f"results/oips/{layer}", range(OIP_MAPS[layer]), suffix)
    for layer in OIP["layers"]
    for suffix in (".npy", ".png", "_evolution.png")
}
NODE_OIPS = OIP["node_oips"]

NODE_DIRECTORY = f"results/oips/{NODE_OIPS['layer']}/nodes"


rule oip_search:
    """OIPs of one chunk of a layer's maps: start noise, precursor screen, batched ascent with
    revival, and the maps' activations on the test images for comparison."""
    input:
        **OIP_SEARCH_INPUTS,
        library=script_dependencies("oip_search"),
    output:
        result="results/oips/{layer}/chunks/maps_{first}-{last}.npz",
    params:
        seed=config["seed"],
        search=search_config(OIP),
    wildcard_constraints:
        layer="Conv2D_[123]",
        first=r"\d{3}",
        last=r"\d{3}",
    log:
        log_path("oip/search_{layer}_{first}-{last}"),
    benchmark:
        benchmark_path("oip/search_{layer}_{first}-{last}")
    threads: 8
    # A whole layer (128 maps x 4 restarts x 400 steps): 0.85 GB and ~25 s on 2 CPU cores;
    # on a cluster one GPU and a short queue.
    resources:
        gpu=1,
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../../scripts/oip_search.py"


for oip_layer in OIP["layers"]:

    rule:
        name:
            f"oip_gather_{oip_layer}"
        localrule: True  # light: runs where snakemake runs, not as a cluster job
        input:
            chunks=OIP_CHUNKS[oip_layer],
            library=script_dependencies("oip_gather"),
        output:
            maps=OIP_FILES[oip_layer, ".npy"],
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
        input:
            chunks=OIP_CHUNKS[oip_layer],
            library=script_dependencies("oip_figures"),
        output:
            maps=report_each(
                OIP_FILES[oip_layer, ".png"],
                map_labels(range(OIP_MAPS[oip_layer]), "OIP"),
                caption="../report/oip_map.rst",
                category="4 OIPs",
                subcategory=oip_layer,
            ),
            evolutions=report_each(
                OIP_FILES[oip_layer, "_evolution.png"],
                map_labels(range(OIP_MAPS[oip_layer]), "evolution"),
                caption="../report/oip_evolution.rst",
                category="4 OIPs",
                subcategory=oip_layer,
            ),
            sheet=report(
                f"results/oips/{oip_layer}/sheet.png",
                caption="../report/oip_sheet.rst",
                category="4 OIPs",
                subcategory=oip_layer,
                labels={"map": "all", "figure": "sheet"},
            ),
        params:
            colormap=OIP["colormap"],
        log:
            log_path(f"oip/figures_{oip_layer}"),
        benchmark:
            benchmark_path(f"oip/figures_{oip_layer}")
        conda:
            CONDA_ENV
        script:
            "../../scripts/oip_figures.py"

    TARGETS.extend(OIP_FILES[oip_layer, ".npy"])
    TARGETS.extend(OIP_FILES[oip_layer, ".png"])
    TARGETS.extend(OIP_FILES[oip_layer, "_evolution.png"])
    TARGETS.extend(
        [f"results/oips/{oip_layer}/summary.csv", f"results/oips/{oip_layer}/sheet.png"]
    )


rule oip_nodes:
    """One OIP per node (i, j) of each chosen map: what maximising a single position gives."""
    input:
        model=OIP_SEARCH_INPUTS["model"],
        library=script_dependencies("oip_nodes"),
    output:
        arrays=map_files(NODE_DIRECTORY, NODE_OIPS["maps"], ".npy"),
        figures=report_each(
            map_files(NODE_DIRECTORY, NODE_OIPS["maps"], ".png"),
            map_labels(NODE_OIPS["maps"], "node OIPs"),
            caption="../report/oip_nodes.rst",
            category="4 OIPs",
            subcategory=f"{NODE_OIPS['layer']} nodes",
        ),
        summary=report(
            f"{NODE_DIRECTORY}/summary.csv",
            caption="../report/oip_nodes.rst",
            category="4 OIPs",
            subcategory=f"{NODE_OIPS['layer']} nodes",
            labels={"map": "all", "figure": "summary table"},
        ),
    params:
        seed=config["seed"],
        search=search_config(OIP),
        nodes=NODE_OIPS,
        colormap=OIP["colormap"],
    log:
        log_path("oip/nodes"),
    benchmark:
        benchmark_path("oip/nodes")
    threads: 8
    resources:
        gpu=1,
        mem_mb=2000,
        runtime=15,
    conda:
        CONDA_ENV
    script:
        "../../scripts/oip_nodes.py"


if NODE_OIPS["maps"]:
    TARGETS.extend(rules.oip_nodes.output)
