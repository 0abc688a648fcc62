# The attribution stage: which pixels of each selected test image argue for its predicted
# class and for the runner-up (gradient saliency, SmoothGrad, integrated gradients from a
# black and a blurred baseline, Grad-CAM on the last conv layer), the last conv layer's maps
# ranked per class, and every method's deletion curve over the first test images.
#
# attribution (TensorFlow) explains all selected images in one job; attribution_figures draws
# one figure per image in one job (NumPy and matplotlib only); attribution_summary draws the
# deletion curves and links every image's figure.
#
# Not part of the default target `all`: on the default run the stage costs about 110 CPU
# seconds (deletion curves 33, attribution 12, figures and summary 64, then in 35 jobs). Build it
# with `snakemake --cores all attribution_summary`.

from cnnlens.attribution.summary import FIGURES

ATTRIBUTION = config["attribution"]
ATTRIBUTION_METHODS = settings.keys_of(settings.AttributionMethods, ATTRIBUTION)
ATTRIBUTION_LAYER = NETWORK.conv_layers[-1]  # Grad-CAM and the map ranking
ATTRIBUTION_INPUTS = {**TEST_IMAGES, "manifest": rules.prepare_data.output.manifest}
# the figures show the OIPs of the maps that argue most for a class, where the OIP stage
# makes them (the layer in oip.layers)
ATTRIBUTION_OIPS = (
    plan.oip_files(NETWORK, ATTRIBUTION_LAYER, ".npy")
    if ATTRIBUTION_LAYER in SETTINGS.oip.layers
    else []
)


rule attribution:
    """Every attribution method for each selected test image's predicted class and
    runner-up, and the last conv layer's maps ranked per class by activation x gradient."""
    input:
        **ATTRIBUTION_INPUTS,
        examples=rules.select_examples.output.examples,
        library=library_of("attribution"),
    output:
        attributions="results/attribution/selected.npz",
        maps=report(
            "results/attribution/maps.csv",
            caption="../report/attribution_maps.rst",
            category="7 Attribution",
            labels={"content": "maps per class"},
        ),
    params:
        seed=config["seed"],
        methods=ATTRIBUTION_METHODS,
        layer=ATTRIBUTION_LAYER,
        class_names=list(CLASS_NAMES),
    log:
        log_path("attribution/attribution"),
    benchmark:
        benchmark_path("attribution/attribution")
    threads: 2
    resources:
        mem_mb=3000,
        runtime=15,
    conda:
        CONDA_ENV
    script:
        "../../scripts/attribution.py"


rule attribution_figures:
    """Per selected test image, every method for its predicted class and its runner-up, and
    the maps that argue most for each (with their OIPs where the OIP stage makes them)."""
    input:
        attributions=rules.attribution.output.attributions,
        oips=ATTRIBUTION_OIPS,
        library=library_of("attribution_figures"),
    output:
        figures=report(
            directory(FIGURES),
            patterns=["test_{index}.png"],
            caption="../report/attribution_image.rst",
            category="7 Attribution",
            subcategory="test images",
            labels={"test image": "{index}"},
        ),
    params:
        class_names=list(CLASS_NAMES),
        top_maps=ATTRIBUTION["top_maps"],
    log:
        log_path("attribution/figures"),
    benchmark:
        benchmark_path("attribution/figures")
    conda:
        CONDA_ENV
    script:
        "../../scripts/attribution_figures.py"


rule attribution_deletion:
    """Every method's deletion curve and random deletion's, averaged over the first
    attribution.deletion_images test images."""
    input:
        **ATTRIBUTION_INPUTS,
        library=library_of("attribution_deletion"),
    output:
        curves=report(
            "results/attribution/deletion.csv",
            caption="../report/attribution_deletion.rst",
            category="7 Attribution",
            labels={"content": "deletion curves"},
        ),
        summary=report(
            "results/attribution/deletion_summary.csv",
            caption="../report/attribution_deletion.rst",
            category="7 Attribution",
            labels={"content": "deletion summary"},
        ),
    params:
        seed=config["seed"],
        methods=ATTRIBUTION_METHODS,
        images=ATTRIBUTION["deletion_images"],
        step=ATTRIBUTION["deletion_step"],
        layer=ATTRIBUTION_LAYER,
    log:
        log_path("attribution/deletion"),
    benchmark:
        benchmark_path("attribution/deletion")
    threads: 2
    resources:
        mem_mb=3000,
        runtime=20,
    conda:
        CONDA_ENV
    script:
        "../../scripts/attribution_deletion.py"


rule attribution_summary:
    """The deletion curves' figure, and a page linking every selected image's figure;
    building it builds the whole stage."""
    input:
        curves=rules.attribution_deletion.output.curves,
        summary=rules.attribution_deletion.output.summary,
        maps=rules.attribution.output.maps,
        figures=rules.attribution_figures.output.figures,
        library=library_of("attribution_summary"),
    output:
        figure=report(
            "results/attribution/deletion.png",
            caption="../report/attribution_deletion.rst",
            category="7 Attribution",
            labels={"content": "deletion figure"},
        ),
        index="results/attribution/index.md",
    params:
        layer=ATTRIBUTION_LAYER,
    log:
        log_path("attribution/summary"),
    benchmark:
        benchmark_path("attribution/summary")
    conda:
        CONDA_ENV
    script:
        "../../scripts/attribution_summary.py"
