rule train:
    """Train the CNN; save it with its summary, history, metrics and confusion matrix."""
    input:
        train_imgs="results/data/train_imgs.npy",
        train_labels="results/data/train_labels.npy",
        test_imgs="results/data/test_imgs.npy",
        test_labels="results/data/test_labels.npy",
        library=script_dependencies("train"),
    output:
        model="results/model/cnn.keras",
        summary="results/model/summary.txt",
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
    localrule: True  # light: runs where snakemake runs, not as a cluster job
    input:
        history=rules.train.output.history,
        metrics=rules.train.output.metrics,
        confusion=rules.train.output.confusion,
        library=script_dependencies("training_figures"),
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
