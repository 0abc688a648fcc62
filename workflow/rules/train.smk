rule train:
    """Train the CNN; save it with its summary, history, metrics and figures."""
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
        curves=report(
            "results/model/training.png",
            caption="../report/training_curves.rst",
            category="2 Training",
        ),
        confusion_png=report(
            "results/model/confusion.png", caption="../report/confusion.rst", category="2 Training"
        ),
        confusion_csv="results/model/confusion.csv",
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


TARGETS.extend(rules.train.output)
