"""Training helpers: validation split, dtype policy, evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from cnnlens import training
from cnnlens.data import one_hot
from cnnlens.errors import CnnLensError
from helpers import study_cnn


def test_validation_split_is_seeded_and_disjoint() -> None:
    images = np.arange(50, dtype=np.float32).reshape(50, 1)
    labels = np.arange(50)
    (kept, _), (held, held_labels) = training.split_validation(images, labels, 10, seed=7)
    again = training.split_validation(images, labels, 10, seed=7)[1][0]
    np.testing.assert_array_equal(held, again)
    assert len(kept) == 40 and len(held) == 10
    assert not set(kept.ravel()) & set(held.ravel())
    np.testing.assert_array_equal(held.ravel(), held_labels)


def test_validation_split_too_large() -> None:
    with pytest.raises(CnnLensError, match="validation_size"):
        training.split_validation(np.zeros((5, 1)), np.zeros(5), 5, seed=0)


@pytest.mark.parametrize(
    "setting, on_gpu, policy",
    [("auto", True, "mixed_float16"), ("auto", False, "float32"), ("never", True, "float32"),
     ("always", False, "mixed_float16")],
)
def test_dtype_policy(setting: str, on_gpu: bool, policy: str) -> None:
    assert training.dtype_policy(setting, on_gpu) == policy


def test_evaluation_counts_every_image() -> None:
    model = study_cnn()
    images = np.random.default_rng(0).standard_normal((30, 28, 28, 1)).astype(np.float32)
    labels = one_hot(np.arange(30) % 10)
    evaluation = training.evaluate(model, images, labels)
    assert evaluation.confusion.sum() == 30
    assert evaluation.confusion.sum(axis=1).tolist() == [3] * 10
    assert 0 <= evaluation.accuracy <= 1 and evaluation.loss > 0
    assert np.trace(evaluation.confusion) / 30 == pytest.approx(evaluation.accuracy)


def test_records_round_trip_through_csv_rows() -> None:
    from cnnlens.training_records import confusion_from_rows, confusion_rows, history_from_rows

    confusion = np.arange(100).reshape(10, 10)
    rows = [{key: str(value) for key, value in row.items()} for row in confusion_rows(confusion)]
    np.testing.assert_array_equal(confusion_from_rows(rows), confusion)
    assert history_from_rows([{"epoch": "1", "loss": "0.5"}]) == [{"epoch": 1.0, "loss": 0.5}]


def test_a_model_giving_logits_is_evaluated_through_a_softmax() -> None:
    import keras
    from cnnlens.training_records import imported_metrics_record

    logits = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, use_bias=False)])
    logits.layers[-1].set_weights([np.diag([4.0, 4.0, 4.0]).astype(np.float32)])
    images = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    labels = one_hot(np.array([0, 1, 2, 1]), 3)
    probabilities = training.class_probabilities(logits, images, logits=True)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    evaluation = training.evaluate(logits, images, labels, logits=True)
    assert evaluation.accuracy == 0.75
    wrong = np.exp(4.0) / (np.exp(4.0) + 2)  # the last image: true class 1 gets e^0 / sum
    expected_loss = (3 * -np.log(wrong) - np.log(1 / (np.exp(4.0) + 2))) / 4
    assert evaluation.loss == pytest.approx(expected_loss)
    names = ("cat", "dog", "bird")
    record = imported_metrics_record(evaluation, names, "/own.keras", "ab" * 32, True, "CPU")
    assert record["model"] == "imported" and record["source_sha256"] == "ab" * 32
    assert record["test_errors"] == 1 and record["output"].startswith("logits")
    assert record["per_class_accuracy"] == {"cat": 1.0, "dog": 0.5, "bird": 1.0}
