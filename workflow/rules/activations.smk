# The activations stage: activation grids (FCPs) of selected test images and each class pair
# compared map by map on every layer, one job per pair.
#
# select_examples chooses the test images to draw (they depend on the trained model's
# predictions) and reads out their activations once, so that activation_figures, one job for
# every selected image's layer grids and overview page, needs no TensorFlow. Its output is a
# directory: which images it holds is known only once the model exists.

ACTIVATIONS = config["activations"]
ACTIVATION_LAYERS = ACTIVATIONS["layers"]
ACTIVATION_PAIRS = [f"{first}_vs_{second}" for first, second in ACTIVATIONS["pairs"]]
TEST_IMAGES = {
    "model": MODEL_FILES.model,
    "test_imgs": rules.prepare_data.output.test_imgs,
    "y_test": rules.prepare_data.output.y_test,
}
PAIR_DIRECTORY = "results/activations/compare/{first}_vs_{second}"


rule select_examples:
    """Choose the test images to draw (clear, ambiguous, listed) and read out their
    activations for every configured layer."""
    input:
        **TEST_IMAGES,
        library=library_of("select_examples"),
    output:
        examples=report(
            "results/activations/examples.csv",
            caption="../report/activation_examples.rst",
            category="3 Activations",
            subcategory="chosen test images",
        ),
        activations="results/activations/examples.npz",
    params:
        examples=ACTIVATIONS["examples"],
        pairs=ACTIVATIONS["pairs"],
        layers=ACTIVATION_LAYERS,
        class_names=CLASS_NAMES,
    log:
        log_path("activations/select_examples"),
    benchmark:
        benchmark_path("activations/select_examples")
    threads: beside_another(2)
    priority: LONG_JOB_PRIORITY
    resources:
        mem_mb=3000,
        runtime=15,
    conda:
        CONDA_ENV
    script:
        "../../scripts/select_examples.py"


rule activation_figures:
    """Every selected test image's grid of maps or nodes per layer and its overview page (the
    image, its class probabilities and every grid), and a Markdown index linking them."""
    input:
        activations=rules.select_examples.output.activations,
        library=library_of("activation_figures"),
    output:
        # not report entries: the atlas has a page for every selected image (its most active
        # maps beside their OIPs); the figures stay as files, listed in index.md
        figures=directory("results/activations/examples"),
        index="results/activations/index.md",
    params:
        grid=ACTIVATIONS["grid"],
        layers=ACTIVATION_LAYERS,
        class_names=CLASS_NAMES,
    log:
        log_path("activations/figures"),
    benchmark:
        benchmark_path("activations/figures")
    priority: LONG_JOB_PRIORITY
    conda:
        CONDA_ENV
    script:
        "../../scripts/activation_figures.py"


rule activation_statistics:
    """Per class and unit, the mean and variance of every configured layer's activations
    over the test set, and each image's per-map means."""
    input:
        **TEST_IMAGES,
        library=library_of("activation_statistics"),
    output:
        statistics="results/activations/class_statistics.npz",
    params:
        layers=ACTIVATION_LAYERS,
    log:
        log_path("activations/class_statistics"),
    benchmark:
        benchmark_path("activations/class_statistics")
    threads: beside_another(2)
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        CONDA_ENV
    script:
        "../../scripts/activation_statistics.py"


rule compare_classes:
    """Two classes on every layer: class means, difference, effect sizes and the ranking of
    every map or node; and per layer, how well its maps or nodes separate the classes."""
    input:
        statistics=rules.activation_statistics.output.statistics,
        library=library_of("compare_classes"),
    output:
        figures=report_each(
            [f"{PAIR_DIRECTORY}/{layer}.png" for layer in ACTIVATION_LAYERS],
            [{"layer": layer, "content": "figure"} for layer in ACTIVATION_LAYERS],
            caption="../report/compare_classes.rst",
            category="3 Activations",
            subcategory="{first} vs {second}",
        ),
        rankings=report_each(
            [f"{PAIR_DIRECTORY}/{layer}.csv" for layer in ACTIVATION_LAYERS],
            [{"layer": layer, "content": "ranking"} for layer in ACTIVATION_LAYERS],
            caption="../report/compare_classes_ranking.rst",
            category="3 Activations",
            subcategory="{first} vs {second}",
        ),
        separation_figure=report(
            f"{PAIR_DIRECTORY}/separation.png",
            caption="../report/class_separation.rst",
            category="3 Activations",
            subcategory="{first} vs {second}",
            labels={"layer": "all layers", "content": "separation figure"},
        ),
        separation_table=report(
            f"{PAIR_DIRECTORY}/separation.csv",
            caption="../report/class_separation.rst",
            category="3 Activations",
            subcategory="{first} vs {second}",
            labels={"layer": "all layers", "content": "separation table"},
        ),
    params:
        layers=ACTIVATION_LAYERS,
        grid=settings.keys_of(settings.GridLayout, ACTIVATIONS["grid"]),
        compare=ACTIVATIONS["compare"],
        class_names=CLASS_NAMES,
    log:
        log_path("activations/compare_{first}_vs_{second}"),
    benchmark:
        benchmark_path("activations/compare_{first}_vs_{second}")
    conda:
        CONDA_ENV
    script:
        "../../scripts/compare_classes.py"


TARGETS.extend(
    [
        *rules.select_examples.output,
        *rules.activation_figures.output,
        *expand(
            "results/activations/compare/{pair}/{name}.{extension}",
            pair=ACTIVATION_PAIRS,
            name=[*ACTIVATION_LAYERS, "separation"],
            extension=["png", "csv"],
        ),
    ]
)
