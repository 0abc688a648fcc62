"""Which test images to draw: per class the clearest right ones, per class pair the most
ambiguous true members, plus the listed ones; their CSV rows and the Markdown index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnlens.errors import CnnLensError
from cnnlens.settings import Examples


@dataclass(frozen=True)
class Example:
    """One selected test image: its index, label, the model's call, and why it was chosen."""

    index: int
    label: int
    probabilities: np.ndarray
    reasons: tuple[str, ...]

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(self.probabilities[self.predicted])

    def describe(self, class_names: Sequence[str] | None = None) -> str:
        """One line for figure titles: ``test image 1816: label 4, predicted 4 (p = 0.998)``,
        the classes by their names (``label Sandal, predicted Sneaker``)."""
        return (
            f"test image {self.index}: label {class_name(class_names, self.label)}, "
            f"predicted {class_name(class_names, self.predicted)} (p = {self.confidence:.3f})"
        )


def class_name(class_names: Sequence[str] | None, label: int) -> str:
    """The name of class ``label`` (its number as text without names; MNIST's names are the
    digits, so its titles read the same either way)."""
    return str(class_names[int(label)]) if class_names else str(int(label))


def lowest(indices: np.ndarray, keys: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` indices with the lowest keys (ties: lower index first)."""
    return indices[np.lexsort((indices, keys))[:count]]


def most_confident(
    probabilities: np.ndarray, labels: np.ndarray, class_label: int, count: int
) -> np.ndarray:
    """Indices of the ``count`` correctly classified images of ``class_label`` that the model is
    surest of: the least probability left for the other classes (ties: lower index first).

    Summing the others' probabilities keeps the order where p(class_label) rounds to 1.0 in float32.
    """
    right = np.flatnonzero((labels == class_label) & (probabilities.argmax(axis=1) == class_label))
    others = np.delete(probabilities[right], class_label, axis=1).sum(axis=1)
    return lowest(right, others, count)


def ambiguity(probabilities: np.ndarray, first: int, second: int) -> np.ndarray:
    """How torn the model is between two classes: min(p_first, p_second).

    0.5 for a 50/50 call between them; near 0 when the model is sure of either class, or of
    neither.
    """
    return np.minimum(probabilities[:, first], probabilities[:, second])


def most_ambiguous(
    probabilities: np.ndarray, labels: np.ndarray, class_label: int, other: int, count: int
) -> np.ndarray:
    """Indices of the ``count`` true images of ``class_label`` that the model finds most torn
    between ``class_label`` and ``other`` (ties: lower index first)."""
    members = np.flatnonzero(labels == class_label)
    return lowest(members, -ambiguity(probabilities[members], class_label, other), count)


def select_examples(
    probabilities: np.ndarray,
    labels: np.ndarray,
    examples: Examples,
    pairs: Sequence[tuple[int, int]],
    class_names: Sequence[str] | None = None,
) -> list[Example]:
    """The test images to draw, in the order: clear ones per class, ambiguous ones per pair,
    listed ones; an image chosen for several reasons appears once with all of them. The
    reasons name the classes by ``class_names`` (``clear Coat (rank 1)``)."""
    labels = np.asarray(labels).astype(np.int64)
    reasons: dict[int, list[str]] = {}
    for class_label in examples.classes:
        chosen = most_confident(probabilities, labels, class_label, examples.confident_per_class)
        for rank, index in enumerate(chosen, start=1):
            reasons.setdefault(int(index), []).append(
                f"clear {class_name(class_names, class_label)} (rank {rank})"
            )
    for first, second in pairs:
        for class_label, other in ((first, second), (second, first)):
            chosen = most_ambiguous(
                probabilities, labels, class_label, other, examples.ambiguous_per_class
            )
            for rank, index in enumerate(chosen, start=1):
                reasons.setdefault(int(index), []).append(
                    f"ambiguous {class_name(class_names, class_label)} vs "
                    f"{class_name(class_names, other)} (rank {rank})"
                )
    for index in examples.test_indices:
        if not 0 <= index < len(labels):
            raise CnnLensError(
                f"test index {index} is out of range: the test set has {len(labels)} images "
                f"(0..{len(labels) - 1}); fix activations.examples.test_indices"
            )
        reasons.setdefault(int(index), []).append("listed in config")
    return [
        Example(index, int(labels[index]), probabilities[index], tuple(why))
        for index, why in reasons.items()
    ]


def significant(value: float, digits: int = 6) -> float:
    """``value`` rounded to ``digits`` significant digits (keeps tiny probabilities visible)."""
    return float(f"{float(value):.{digits}g}")


def example_rows(
    examples: Sequence[Example], class_names: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The rows of ``examples.csv``: index, label, predicted, confidence, p0, p1, ..., why
    (p<k> by class number), label_name, predicted_name."""
    return [
        {
            "index": example.index,
            "label": example.label,
            "predicted": example.predicted,
            "confidence": significant(example.confidence),
            **{f"p{label}": significant(p) for label, p in enumerate(example.probabilities)},
            "why": "; ".join(example.reasons),
            "label_name": class_name(class_names, example.label),
            "predicted_name": class_name(class_names, example.predicted),
        }
        for example in examples
    ]


def examples_index(
    rows: Sequence[Mapping[str, Any]], layers: Sequence[str], folder: str = "examples"
) -> str:
    """A Markdown page listing the selected images (rows of ``examples.csv``) with links to
    their overview page and layer grids, in ``folder/test_{index}/`` (relative to the page)."""
    lines = [
        "# Activation grids of the selected test images",
        "",
        "Chosen by rule select_examples (see examples.csv): *clear* = among the test images of",
        "their class the model is surest of; *ambiguous a vs b* = true a's the model finds most",
        "torn between a and b.",
        "",
        "| test image | label | predicted | p | chosen as | pages |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        pages = f"{folder}/test_{row['index']}"
        links = [f"[overview]({pages}/overview.png)"]
        links += [f"[{layer}]({pages}/{layer}.png)" for layer in layers]
        label = row.get("label_name") or row["label"]
        predicted = row.get("predicted_name") or row["predicted"]
        lines.append(
            f"| {row['index']} | {label} | {predicted} | "
            f"{float(row['confidence']):.3f} | {row['why']} | {' '.join(links)} |"
        )
    return "\n".join(lines) + "\n"
