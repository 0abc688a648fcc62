# The dream stage: photos altered by the OIP ascent, through single maps (dream_maps), whole
# layers over octaves (dream_layers) and at full size (dream_fine). Every job is per photo
# (wildcard: the photo's name), so that editing one photo reruns only that photo's dreams.

from cnnlens.dream.names import fine_render_names

DREAM = config["dream"]
DREAM_LAYER = DREAM["single_map"]["layer"]
DREAM_PHOTO_FILE = plan.photo_lookup(PHOTOS, "input")  # none for matplotlib's sample photo
DREAM_PHOTO_LABEL = plan.photo_lookup(PHOTOS, "label")  # recorded in the dreams' metrics
FINE_RENDERS = fine_render_names(SETTINGS.dream.fine)
# When the single-map dreams pick the maps with the best OIPs, they read the OIP stage's
# summary of their layer, and every map's OIP is drawn beside its dream.
DREAM_WITH_OIPS = DREAM_LAYER in config["oip"]["layers"]
DREAM_OIP_INPUTS = {
    "oip_summary": f"results/oips/{DREAM_LAYER}/summary.csv"
    if DREAM["single_map"]["top_oip_maps"]
    else [],
    "oips": plan.oip_files(NETWORK, DREAM_LAYER, ".npy") if DREAM_WITH_OIPS else [],
}
# Every dream keeps to the model's input range, which the data stage's manifest records.
DREAM_INPUTS = {
    "photo": "results/dreams/{photo}/photo.npy",
    "model": MODEL_FILES.model,
    "manifest": rules.prepare_data.output.manifest,
}


rule dream_photo:
    """Read a photo (grey for a grey model, colour for a colour one), cap its size and put it
    into the model's input range (unusable files stop here)."""
    input:
        photo=DREAM_PHOTO_FILE,
        manifest=DREAM_INPUTS["manifest"],
        library=library_of("dream_photo"),
    output:
        array=DREAM_INPUTS["photo"],
        image="results/dreams/{photo}/photo.png",
    params:
        max_side=DREAM["max_side"],
        min_side=min(NETWORK.input_shape[:2]),
        channels=NETWORK.input_shape[2],
    log:
        log_path("dream_photo/{photo}"),
    benchmark:
        benchmark_path("dream_photo/{photo}")
    threads: 1
    priority: LONG_JOB_PRIORITY  # heads the full-size dream's chain: ready before training
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/dream_photo.py"


rule dream_maps:
    """Single-map dreams: the photo at the CNN's input size climbed for each map, detail put
    back by rounds."""
    input:
        **DREAM_INPUTS,
        **DREAM_OIP_INPUTS,
        library=library_of("dream_maps"),
    output:
        directory=report(
            directory("results/dreams/{photo}/maps"),
            patterns=["{render}/row.png"],
            caption="../report/dream_maps.rst",
            category="5 Dreams",
            subcategory="{photo}: single maps",
        ),
    params:
        photo=DREAM_PHOTO_LABEL,
        single_map=DREAM["single_map"],
        compute_dtype=DREAM["compute_dtype"],
        seed=config["seed"],
    log:
        log_path("dream_maps/{photo}"),
    benchmark:
        benchmark_path("dream_maps/{photo}")
    threads: ASCENT_THREADS
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
        **DREAM_INPUTS,
        library=library_of("dream_layers"),
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
        photo=DREAM_PHOTO_LABEL,
        layers=DREAM["layers"],
        compute_dtype=DREAM["compute_dtype"],
        seed=config["seed"],
    log:
        log_path("dream_layers/{photo}"),
    benchmark:
        benchmark_path("dream_layers/{photo}")
    threads: ASCENT_THREADS
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
        **DREAM_INPUTS,
        library=library_of("dream_fine"),
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
        photo=DREAM_PHOTO_LABEL,
        fine=DREAM["fine"],
        compute_dtype=DREAM["compute_dtype"],
        layer=DREAM_LAYER,
        seed=config["seed"],
    log:
        log_path("dream_fine/{photo}"),
    benchmark:
        benchmark_path("dream_fine/{photo}")
    threads: ASCENT_THREADS
    priority: LONG_JOB_PRIORITY
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
