# The training stage: the CNN of model.architecture fitted, evaluated and described.


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
            "results/model/history.csv", caption="../report/history.rst", category="2 Training"
        ),
        metrics=report(
            "results/model/metrics.json", caption="../report/metrics.rst", category="2 Training"
        ),
        confusion="results/model/confusion.csv",
    params:
        seed=config["seed"],
        training=config["training"],
        architecture=config["model"]["architecture"],
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


rule training_figures:
    """Draw the learning curves and the confusion matrix (a rule of its own, so that editing a
    figure does not retrain the model)."""
    input:
        history=rules.train.output.history,
        metrics=rules.train.output.metrics,
        confusion=rules.train.output.confusion,
        library=library_of("training_figures"),
    output:
        curves=report(
            "results/model/training.png",
            caption="../report/training_curves.rst",
            category="2 Training",
        ),
        confusion=report(
            "results/model/confusion.png", caption="../report/confusion.rst", category="2 Training"
        ),
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


TARGETS.extend(rules.train.output)
TARGETS.extend(rules.training_figures.output)
