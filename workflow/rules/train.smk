# The model stage: the CNN of model.architecture trained, or the .keras file of model.file
# taken as it is (imported, no training); either way the same files under results/model/,
# which the later stages name through MODEL_FILES (MODEL_FILES.model, MODEL_FILES.network).


if not SETTINGS.model.file:

    rule train:
        """Train the CNN; save it with its summary, its description (layers, shapes, receptive
        fields), history, metrics and confusion matrix."""
        input:
            train_imgs=rules.prepare_data.output.train_imgs,
            train_labels=rules.prepare_data.output.train_labels,
            test_imgs=rules.prepare_data.output.test_imgs,
            test_labels=rules.prepare_data.output.test_labels,
            library=library_of("train"),
        output:
            model="results/model/cnn.keras",
            summary="results/model/summary.txt",
            network="results/model/network.json",
            receptive_fields="results/model/receptive_fields.txt",
            history=report(
                "results/model/history.csv",
                caption="../report/history.rst",
                category="2 Training",
            ),
            metrics=report(
                "results/model/metrics.json",
                caption="../report/metrics.rst",
                category="2 Training",
            ),
            confusion="results/model/confusion.csv",
        params:
            seed=config["seed"],
            training=config["training"],
            architecture=config["model"]["architecture"],
            class_names=CLASS_NAMES,
        log:
            log_path("train"),
        benchmark:
            benchmark_path("train")
        threads: 8
        # Full MNIST, 15 epochs: ~2.5 min and 1.5 GB on 2 CPU cores; on a cluster one GPU
        # (`--gpus=1`), the memory with headroom, and a runtime (minutes) short queues accept.
        resources:
            gpu=1,
            mem_mb=4000,
            runtime=60,
        conda:
            CONDA_ENV
        script:
            "../../scripts/train.py"

    MODEL_FILES = rules.train.output
    TRAINING_FIGURES = {
        "curves": report(
            "results/model/training.png",
            caption="../report/training_curves.rst",
            category="2 Training",
        )
    }

else:

    rule import_model:
        """Take the model of model.file as it is: evaluate it on the test split, save it (as
        float32) with its summary, description, metrics and confusion matrix."""
        input:
            model=os.path.expanduser(SETTINGS.model.file),
            test_imgs=rules.prepare_data.output.test_imgs,
            test_labels=rules.prepare_data.output.test_labels,
            library=library_of("import_model"),
        output:
            model="results/model/cnn.keras",
            summary="results/model/summary.txt",
            network="results/model/network.json",
            receptive_fields="results/model/receptive_fields.txt",
            metrics=report(
                "results/model/metrics.json",
                caption="../report/imported_metrics.rst",
                category="2 Training",
            ),
            confusion="results/model/confusion.csv",
        params:
            seed=config["seed"],
            class_names=CLASS_NAMES,
        log:
            log_path("import_model"),
        benchmark:
            benchmark_path("import_model")
        threads: 2
        resources:
            mem_mb=3000,
            runtime=20,
        conda:
            CONDA_ENV
        script:
            "../../scripts/import_model.py"

    MODEL_FILES = rules.import_model.output
    TRAINING_FIGURES = {}  # an imported model has no training history to draw


rule training_figures:
    """Draw the learning curves (of a trained model) and the confusion matrix (a rule of its
    own, so that editing a figure does not retrain the model)."""
    input:
        **{
            name: getattr(MODEL_FILES, name)
            for name in ("history", "metrics", "confusion")
            if hasattr(MODEL_FILES, name)
        },
        library=library_of("training_figures"),
    output:
        **TRAINING_FIGURES,
        confusion=report(
            "results/model/confusion.png", caption="../report/confusion.rst", category="2 Training"
        ),
    params:
        class_names=CLASS_NAMES,
    log:
        log_path("training_figures"),
    benchmark:
        benchmark_path("training_figures")
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../../scripts/training_figures.py"


TARGETS.extend(MODEL_FILES)
TARGETS.extend(rules.training_figures.output)
