"""The tiny configuration of the real pipeline, run through the real snakemake command."""

from __future__ import annotations

import csv
import json

import numpy as np

from cnnlens import mnist
from cnnlens.data import SPLIT_FILES
from cnnlens.model import describe, load_cnn
from cnnlens.network import Network

TRAIN_SUBSET, TEST_SUBSET = 600, 300


def test_six_splits_have_the_documented_layout(tiny_run) -> None:
    arrays = {name: np.load(tiny_run.path(f"results/data/{name}.npy")) for name in SPLIT_FILES}
    assert arrays["train_imgs"].shape == (TRAIN_SUBSET, 28, 28, 1)
    assert arrays["test_imgs"].shape == (TEST_SUBSET, 28, 28, 1)
    assert arrays["train_imgs"].dtype == arrays["test_imgs"].dtype == np.float32
    assert arrays["train_labels"].shape == (TRAIN_SUBSET, 10)
    assert arrays["test_labels"].dtype == np.float32
    assert arrays["y_test"].shape == (TEST_SUBSET,)
    np.testing.assert_array_equal(arrays["test_labels"].argmax(axis=1), arrays["y_test"])
    np.testing.assert_allclose(arrays["test_imgs"].mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(arrays["test_imgs"].std(axis=(1, 2, 3)), 1, atol=1e-4)


def test_splits_are_mnist_in_its_original_order(tiny_run) -> None:
    manifest = json.loads(tiny_run.path("results/data/manifest.json").read_text())
    source = mnist.obtain(None, cache_dir="~/.cache/cnnlens")  # cached: no download
    np.testing.assert_array_equal(
        np.load(tiny_run.path("results/data/y_test.npy")), source.test_labels[:TEST_SUBSET]
    )
    assert manifest["test_label_counts"] == np.bincount(
        source.test_labels[:TEST_SUBSET], minlength=10
    ).tolist()


def test_trained_model_reloads_with_its_description(tiny_run) -> None:
    model = load_cnn(tiny_run.path("results/model/cnn.keras"))
    saved = Network.from_json(tiny_run.path("results/model/network.json").read_text())
    assert describe(model) == saved
    assert saved.conv_layers == ("Conv2D_1", "Conv2D_2", "Conv2D_3")
    assert "18x18" in tiny_run.path("results/model/receptive_fields.txt").read_text()


def test_training_reports(tiny_run) -> None:
    metrics = json.loads(tiny_run.path("results/model/metrics.json").read_text())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert set(metrics["per_class_accuracy"]) == {str(k) for k in range(10)}
    assert metrics["device"].startswith(("CPU", "GPU"))
    with open(tiny_run.path("results/model/history.csv")) as stream:
        history = list(csv.DictReader(stream))
    assert len(history) == 1
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"} <= set(
        history[0]
    )
    with open(tiny_run.path("results/model/confusion.csv")) as stream:
        confusion = list(csv.DictReader(stream))
    total = sum(
        int(value) for row in confusion for key, value in row.items() if key != "true_class"
    )
    assert total == TEST_SUBSET
    for figure in ("training.png", "confusion.png"):
        assert tiny_run.path(f"results/model/{figure}").stat().st_size > 10_000
    assert "208,982" in tiny_run.path("results/model/summary.txt").read_text()


def test_every_job_wrote_its_log_and_benchmark(tiny_run) -> None:
    for rule in ("prepare_data", "train", "training_figures"):
        assert tiny_run.path(f"results/logs/{rule}.log").stat().st_size > 0
        assert tiny_run.path(f"results/benchmarks/{rule}.tsv").is_file()
    assert "SHA-256 of all four arrays verified" in tiny_run.path(
        "results/logs/prepare_data.log"
    ).read_text()


def test_a_second_run_has_nothing_to_do(tiny_run) -> None:
    result = tiny_run.snakemake("--dry-run")
    assert "Nothing to be done" in result.stdout + result.stderr
