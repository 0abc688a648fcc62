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
        history="results/model/history.csv",
        metrics="results/model/metrics.json",
        curves="results/model/training.png",
        confusion_png="results/model/confusion.png",
        confusion_csv="results/model/confusion.csv",
    params:
        seed=config["seed"],
        training=config["training"],
    log:
        log_path("train"),
    benchmark:
        benchmark_path("train")
    threads: 8
    resources:
        mem_mb=8000,
        runtime=120,
    conda:
        CONDA_ENV
    script:
        "../../scripts/train.py"


TARGETS.extend(rules.train.output)
