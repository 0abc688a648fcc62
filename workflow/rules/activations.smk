# Rules of the activations stage (SPEC section 3): activation grids (FCPs) of selected test
# images, one overview page per image, and class pairs compared map by map.
#
# Which test images are drawn depends on the trained model's predictions, so the grid jobs
# (one per image and layer, named by test index) are only known after the model exists:
# select_examples is a checkpoint, and the aggregate rule activation_index asks it for the
# list. select_examples also reads out every selected image's activations once (one
# TensorFlow start), so the many grid and overview jobs need only numpy and matplotlib.
# The class comparison needs no checkpoint: its pairs and layers are known from the config.

from cnnlens.files import read_csv
from cnnlens.model import LAYER_NAMES

ACTIVATIONS = config["activations"]
ACTIVATION_PAIRS = [f"{first}_vs_{second}" for first, second in ACTIVATIONS["pairs"]]
TEST_IMAGES = {
    "model": "results/model/cnn.keras",
    "test_imgs": "results/data/test_imgs.npy",
    "y_test": "results/data/y_test.npy",
}

EXAMPLE_WILDCARDS = {"index": r"\d+", "layer": "|".join(LAYER_NAMES)}
PAIR_WILDCARDS = {"first": r"\d", "second": r"\d", "layer": "|".join(LAYER_NAMES)}


checkpoint select_examples:
    """Choose the test images to draw (clear, ambiguous, listed) and read out their
    activations for every configured layer."""
    input:
        **TEST_IMAGES,
        library=script_dependencies("activations_select"),
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
        layers=ACTIVATIONS["layers"],
    log:
        log_path("activations/select_examples"),
    benchmark:
        benchmark_path("activations/select_examples")
    threads: 2
    resources:
        mem_mb=3000,
        runtime=15,
    conda:
        CONDA_ENV
    script:
        "../../scripts/activations_select.py"


rule activation_grid:
    """One layer's maps (8 per row) or nodes (1x1 tiles) for one selected test image."""
    localrule: True  # light: runs where snakemake runs, not as a cluster job
    input:
        activations=rules.select_examples.output.activations,
        library=script_dependencies("activations_grid"),
    output:
        figure=report(
            "results/activations/test_{index}/{layer}.png",
            caption="../report/activation_grid.rst",
            category="3 Activations",
            subcategory="layer grids",
            labels={"test image": "{index}", "layer": "{layer}"},
        ),
    params:
        grid=ACTIVATIONS["grid"],
    wildcard_constraints:
        **EXAMPLE_WILDCARDS,
    log:
        log_path("activations/grid_{index}_{layer}"),
    benchmark:
        benchmark_path("activations/grid_{index}_{layer}")
    conda:
        CONDA_ENV
    script:
        "../../scripts/activations_grid.py"


rule activation_overview:
    """One page per selected test image: the digit, the class probabilities, every grid."""
    localrule: True  # light: runs where snakemake runs, not as a cluster job
    input:
        activations=rules.select_examples.output.activations,
        library=script_dependencies("activations_overview"),
    output:
        figure=report(
            "results/activations/test_{index}/overview.png",
            caption="../report/activation_overview.rst",
            category="3 Activations",
            subcategory="overview pages",
            labels={"test image": "{index}"},
        ),
    params:
        grid=ACTIVATIONS["grid"],
    wildcard_constraints:
        **EXAMPLE_WILDCARDS,
    log:
        log_path("activations/overview_{index}"),
    benchmark:
        benchmark_path("activations/overview_{index}")
    conda:
        CONDA_ENV
    script:
        "../../scripts/activations_overview.py"


rule activation_index:
    """A Markdown page linking every selected image's overview and grids; building it builds
    them all."""
    localrule: True  # light: runs where snakemake runs, not as a cluster job
    input:
        examples=rules.select_examples.output.examples,
        # every selected image's grids and overview page, known once select_examples has run
        figures=lambda wildcards: expand(
            "results/activations/test_{index}/{page}.png",
            index=[
                row["index"]
                for row in read_csv(checkpoints.select_examples.get().output.examples)
            ],
            page=[*ACTIVATIONS["layers"], "overview"],
        ),
        library=script_dependencies("activations_index"),
    output:
        index="results/activations/index.md",
    params:
        layers=ACTIVATIONS["layers"],
    log:
        log_path("activations/index"),
    benchmark:
        benchmark_path("activations/index")
    conda:
        CONDA_ENV
    script:
        "../../scripts/activations_index.py"


rule activation_statistics:
    """Per class and unit, the mean and variance of every configured layer's activations
    over the test set, and each image's per-map means."""
    input:
        **TEST_IMAGES,
        library=script_dependencies("activations_statistics"),
    output:
        statistics="results/activations/class_statistics.npz",
    params:
        layers=ACTIVATIONS["layers"],
    log:
        log_path("activations/class_statistics"),
    benchmark:
        benchmark_path("activations/class_statistics")
    threads: 2
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        CONDA_ENV
    script:
        "../../scripts/activations_statistics.py"


rule compare_classes:
    """Two classes on one layer: class means, difference, effect sizes, ranking."""
    localrule: True  # light: runs where snakemake runs, not as a cluster job
    input:
        statistics=rules.activation_statistics.output.statistics,
        library=script_dependencies("activations_compare"),
    output:
        figure=report(
            "results/activations/compare/{first}_vs_{second}/{layer}.png",
            caption="../report/compare_classes.rst",
            category="3 Activations",
            subcategory="{first} vs {second}",
            labels={"layer": "{layer}", "content": "figure"},
        ),
        ranking=report(
            "results/activations/compare/{first}_vs_{second}/{layer}.csv",
            caption="../report/compare_classes_ranking.rst",
            category="3 Activations",
            subcategory="{first} vs {second}",
            labels={"layer": "{layer}", "content": "ranking"},
        ),
    params:
        grid={key: ACTIVATIONS["grid"][key] for key in ("colormap", "columns", "dense_columns")},
        difference_colormap=ACTIVATIONS["compare"]["difference_colormap"],
        top=ACTIVATIONS["compare"]["top"],
    wildcard_constraints:
        **PAIR_WILDCARDS,
    log:
        log_path("activations/compare_{first}_vs_{second}_{layer}"),
    benchmark:
        benchmark_path("activations/compare_{first}_vs_{second}_{layer}")
    conda:
        CONDA_ENV
    script:
        "../../scripts/activations_compare.py"


rule class_separation:
    """Per layer, how well its best and its typical map or node separate two classes."""
    localrule: True  # light: runs where snakemake runs, not as a cluster job
    input:
        statistics=rules.activation_statistics.output.statistics,
        library=script_dependencies("activations_separation"),
    output:
        figure=report(
            "results/activations/compare/{first}_vs_{second}/separation.png",
            caption="../report/class_separation.rst",
            category="3 Activations",
            subcategory="{first} vs {second}",
            labels={"layer": "all layers", "content": "separation figure"},
        ),
        summary=report(
            "results/activations/compare/{first}_vs_{second}/separation.csv",
            caption="../report/class_separation.rst",
            category="3 Activations",
            subcategory="{first} vs {second}",
            labels={"layer": "all layers", "content": "separation table"},
        ),
    params:
        large_effect=ACTIVATIONS["compare"]["large_effect"],
    wildcard_constraints:
        **PAIR_WILDCARDS,
    log:
        log_path("activations/separation_{first}_vs_{second}"),
    benchmark:
        benchmark_path("activations/separation_{first}_vs_{second}")
    conda:
        CONDA_ENV
    script:
        "../../scripts/activations_separation.py"


TARGETS.extend(
    [
        *rules.select_examples.output,
        *rules.activation_index.output,
        *expand(
            "results/activations/compare/{pair}/{name}.{extension}",
            pair=ACTIVATION_PAIRS,
            name=[*ACTIVATIONS["layers"], "separation"],
            extension=["png", "csv"],
        ),
    ]
)
