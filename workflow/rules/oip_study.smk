# The OIP study stage: the study's questions answered with numbers on the trained model.
#
# oip_study_layer runs every variant of the OIP search (oip_study.variants, each an override
# of the oip section) on all maps of one conv layer, each variant one batch of all maps and
# restarts, and scores it; oip_study_hand climbs one map from starts of one noise scale per
# series (the Hand of MNIST); oip_study (no TensorFlow) writes summary.csv (one row per layer
# and variant) and the figures. Building oip_study builds the whole stage.
#
# Not part of the default target `all`: every variant costs about what the oip stage's
# search costs. Build it with `snakemake --cores all oip_study`.

from cnnlens.oip.steps import layer_search_config
from cnnlens.oip_study.variants import layer_searches

OIP_STUDY = SETTINGS.oip_study
OIP_STUDY_INPUTS = {
    "model": MODEL_FILES.model,
    "test_imgs": rules.prepare_data.output.test_imgs,
    "manifest": rules.prepare_data.output.manifest,
}


rule oip_study_layer:
    """Every variant of the OIP search on all maps of one conv layer: scores and OIPs."""
    input:
        **OIP_STUDY_INPUTS,
        library=library_of("oip_study_layer"),
    output:
        scores="results/oip_study/{layer}/scores.csv",
        oips="results/oip_study/{layer}/oips.npz",
    params:
        seed=config["seed"],
        # each variant's search of this layer (its own noise where oip.noise.per_layer says);
        # plan.py checked the variants' keys, these checks (e.g. the staged variant's
        # stage_starts within oip.steps) come only when the stage is built
        searches=lambda wildcards: layer_searches(
            SETTINGS.oip, OIP_STUDY.variants, wildcards.layer
        ),
    log:
        log_path("oip_study/layer_{layer}"),
    benchmark:
        benchmark_path("oip_study/layer_{layer}")
    threads: ASCENT_THREADS
    resources:
        gpu=1,
        mem_mb=2000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../../scripts/oip_study_layer.py"


rule oip_study_hand:
    """The Hand of MNIST: one map climbed from starts of one noise scale per series."""
    input:
        **OIP_STUDY_INPUTS,
        library=library_of("oip_study_hand"),
    output:
        hand="results/oip_study/hand.npz",
    params:
        seed=config["seed"],
        hand=config["oip_study"]["hand"],
        search=layer_search_config(OIP_SEARCH, OIP_STUDY.hand.layer),
    log:
        log_path("oip_study/hand"),
    benchmark:
        benchmark_path("oip_study/hand")
    threads: ASCENT_THREADS
    resources:
        gpu=1,
        mem_mb=2000,
        runtime=15,
    conda:
        CONDA_ENV
    script:
        "../../scripts/oip_study_hand.py"


rule oip_study:
    """The study's summary (one row per layer and variant, also as a Markdown table), the
    scores' figure, the variants' OIPs and the hand series' evolution."""
    input:
        scores=expand(rules.oip_study_layer.output.scores, layer=OIP_STUDY.layers),
        oips=expand(rules.oip_study_layer.output.oips, layer=OIP_STUDY.layers),
        hand=rules.oip_study_hand.output.hand,
        manifest=rules.prepare_data.output.manifest,
        library=library_of("oip_study_summary"),
    output:
        summary=report(
            "results/oip_study/summary.csv",
            caption="../report/oip_study.rst",
            category="8 OIP study",
            labels={"content": "summary table"},
        ),
        table="results/oip_study/summary.md",
        figure=report(
            "results/oip_study/summary.png",
            caption="../report/oip_study.rst",
            category="8 OIP study",
            labels={"content": "scores"},
        ),
        oips=report(
            "results/oip_study/oips.png",
            caption="../report/oip_study.rst",
            category="8 OIP study",
            labels={"content": "OIPs per variant"},
        ),
        hand=report(
            "results/oip_study/hand.png",
            caption="../report/oip_study.rst",
            category="8 OIP study",
            labels={"content": "hand series"},
        ),
    params:
        layers=list(OIP_STUDY.layers),
        variants=list(OIP_STUDY.variants),
        colormap=SETTINGS.oip.colormap,
    log:
        log_path("oip_study/summary"),
    benchmark:
        benchmark_path("oip_study/summary")
    conda:
        CONDA_ENV
    script:
        "../../scripts/oip_study_summary.py"
