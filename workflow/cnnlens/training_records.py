"""The training stage's records: ``metrics.json``, ``history.csv`` and ``confusion.csv``.

Written by the ``train`` rule and read back by ``training_figures``; plain NumPy, so reading
them does not load TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Evaluation:
    """How the model does on a labelled set."""

    loss: float
    accuracy: float
    per_class_accuracy: list[float]
    confusion: np.ndarray  # (classes, classes): rows true class, columns predicted class


def test_metrics(evaluation: Evaluation, class_names: Sequence[str]) -> dict[str, Any]:
    """The test-set part of ``metrics.json``: loss, accuracy, errors, accuracy per class (by
    class name)."""
    return {
        "test_loss": evaluation.loss,
        "test_accuracy": evaluation.accuracy,
        "test_errors": int(evaluation.confusion.sum() - np.trace(evaluation.confusion)),
        "per_class_accuracy": dict(zip(class_names, evaluation.per_class_accuracy, strict=True)),
    }


def metrics_record(
    evaluation: Evaluation,
    class_names: Sequence[str],
    history: Sequence[Mapping[str, float]],
    device: str,
    seconds: float,
) -> dict[str, Any]:
    """The content of ``metrics.json``."""
    return {
        **test_metrics(evaluation, class_names),
        "epochs": len(history),
        "training_seconds": round(seconds, 2),
        "device": device,
    }


def imported_metrics_record(
    evaluation: Evaluation,
    class_names: Sequence[str],
    source: str,
    sha256: str,
    logits: bool,
    device: str,
) -> dict[str, Any]:
    """The content of ``metrics.json`` for a model taken as it is from ``model.file``: the
    test metrics as for a trained model, where it came from, and what its output gives."""
    return {
        **test_metrics(evaluation, class_names),
        "model": "imported",
        "source": source,
        "source_sha256": sha256,
        "output": "logits (softmax applied for these metrics)" if logits else "softmax",
        "device": device,
    }


def confusion_rows(confusion: np.ndarray) -> list[dict[str, int]]:
    """The confusion matrix as CSV rows: one per true class, a column per predicted class."""
    return [
        {"true_class": true, **{f"predicted_{k}": int(n) for k, n in enumerate(row)}}
        for true, row in enumerate(confusion)
    ]


def confusion_from_rows(rows: Sequence[Mapping[str, str]]) -> np.ndarray:
    """The confusion matrix back from the rows of ``confusion.csv``."""
    return np.array(
        [[int(value) for key, value in row.items() if key != "true_class"] for row in rows],
        dtype=np.int64,
    )


def history_from_rows(rows: Sequence[Mapping[str, str]]) -> list[dict[str, float]]:
    """The per-epoch history back from the rows of ``history.csv``, as numbers."""
    return [{key: float(value) for key, value in row.items()} for row in rows]
