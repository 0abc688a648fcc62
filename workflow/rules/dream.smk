# Rules of the dream stage (SPEC 5): photos altered by the OIP ascent, through single maps
# (dream_maps), whole layers over octaves (dream_layers) and at full size (dream_fine).
# Every job is per photo (wildcard: the photo's name), so that editing one photo of the list
# reruns only that photo's dreams.

import re

from snakemake.exceptions import WorkflowError

from cnnlens.dream import FineDreamSettings
from cnnlens.errors import CnnLensError
from cnnlens.model import LAYER_TABLE
from cnnlens.oip import map_files
from cnnlens.photos import photo_lookup, photo_table

DREAM = config["dream"]
DREAM_LAYER = DREAM["single_map"]["layer"]
DREAM_MODEL = "results/model/cnn.keras"
try:
    # photo name -> file; the default photo when the list is empty
    PHOTOS = photo_table(DREAM["photos"])
    # input/params function: the photo file behind the wildcard {photo}
    DREAM_PHOTO_FILE = photo_lookup(PHOTOS)
    FINE_RENDERS = FineDreamSettings.from_config(DREAM["fine"], DREAM_LAYER).render_names
except CnnLensError as error:
    raise WorkflowError(str(error)) from None

# When the OIP stage covers the single-map dreams' layer, each map's OIP is drawn beside its
# dream, and the maps with the best OIPs (its summary table) can be dreamed with too.
DREAM_WITH_OIPS = DREAM_LAYER in config["oip"]["layers"]
if DREAM["single_map"]["top_oip_maps"] and not DREAM_WITH_OIPS:
    raise WorkflowError(
        f"dream.single_map.top_oip_maps needs the OIPs of {DREAM_LAYER}: add it to oip.layers "
        "or set top_oip_maps to 0"
    )
DREAM_LAYER_MAPS = {name: shape[-1] for name, shape, _ in LAYER_TABLE}[DREAM_LAYER]
DREAM_OIPS = (
    map_files(f"results/oips/{DREAM_LAYER}", range(DREAM_LAYER_MAPS), ".npy")
    if DREAM_WITH_OIPS
    else []
)
DREAM_OIP_SUMMARY = f"results/oips/{DREAM_LAYER}/summary.csv"


wildcard_constraints:
    photo="|".join(re.escape(name) for name in PHOTOS),


rule dream_photo:
    """Read a photo, make it grey, cap its size and standardise it (unusable files stop here)."""
    localrule: True  # light: runs where snakemake runs, not as a cluster job
    input:
        photo=DREAM_PHOTO_FILE,
        library=script_dependencies("dream_photo"),
    output:
        array="results/dreams/{photo}/photo.npy",
        image="results/dreams/{photo}/photo.png",
    params:
        max_side=DREAM["max_side"],
    log:
        log_path("dream_photo/{photo}"),
    benchmark:
        benchmark_path("dream_photo/{photo}")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/dream_photo.py"


rule dream_maps:
    """Single-map dreams: the photo at 28x28 climbed for each map, detail put back by rounds."""
    input:
        photo=rules.dream_photo.output.array,
        model=DREAM_MODEL,
        oip_summary=DREAM_OIP_SUMMARY if DREAM["single_map"]["top_oip_maps"] else [],
        oips=DREAM_OIPS,
        library=script_dependencies("dream_maps"),
    output:
        directory=report(
            directory("results/dreams/{photo}/maps"),
            patterns=["{render}/row.png"],
            caption="../report/dream_maps.rst",
            category="5 Dreams",
            subcategory="{photo}: single maps",
        ),
    params:
        photo=DREAM_PHOTO_FILE,
        single_map=DREAM["single_map"],
        seed=config["seed"],
    log:
        log_path("dream_maps/{photo}"),
    benchmark:
        benchmark_path("dream_maps/{photo}")
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=1,
    conda:
        CONDA_ENV
    script:
        "../../scripts/dream_maps.py"


rule dream_layers:
    """Classic DeepDream: whole layers' mean activations climbed octave by octave."""
    input:
        photo=rules.dream_photo.output.array,
        model=DREAM_MODEL,
        library=script_dependencies("dream_layers"),
    output:
        image="results/dreams/{photo}/layers/dream.png",
        figure=report(
            "results/dreams/{photo}/layers/octaves.png",
            caption="../report/dream_layers.rst",
            category="5 Dreams",
            subcategory="{photo}: layers",
        ),
        metrics="results/dreams/{photo}/layers/metrics.json",
    params:
        photo=DREAM_PHOTO_FILE,
        layers=DREAM["layers"],
        seed=config["seed"],
    log:
        log_path("dream_layers/{photo}"),
    benchmark:
        benchmark_path("dream_layers/{photo}")
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=1,
    conda:
        CONDA_ENV
    script:
        "../../scripts/dream_layers.py"


rule dream_fine:
    """Full-size dreams with random shifts: patterns at the digits' scale in many places."""
    input:
        photo=rules.dream_photo.output.array,
        model=DREAM_MODEL,
        library=script_dependencies("dream_fine"),
    output:
        images=expand("results/dreams/{{photo}}/fine/{render}/dream.png", render=FINE_RENDERS),
        metrics=expand(
            "results/dreams/{{photo}}/fine/{render}/metrics.json", render=FINE_RENDERS
        ),
        figure=report(
            "results/dreams/{photo}/fine/overview.png",
            caption="../report/dream_fine.rst",
            category="5 Dreams",
            subcategory="{photo}: full size",
        ),
    params:
        photo=DREAM_PHOTO_FILE,
        fine=DREAM["fine"],
        layer=DREAM_LAYER,
        seed=config["seed"],
    log:
        log_path("dream_fine/{photo}"),
    benchmark:
        benchmark_path("dream_fine/{photo}")
    threads: 4
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=1,
    conda:
        CONDA_ENV
    script:
        "../../scripts/dream_fine.py"


for dream_rule in (rules.dream_photo, rules.dream_maps, rules.dream_layers, rules.dream_fine):
    TARGETS.extend(expand(dream_rule.output, photo=PHOTOS))
