"""Deletion curves: how fast a method's most-attributed pixels take the class away.

For each image, its pixels are ordered by a method's relevance, largest first (random order
for the method ``random``); at each fraction 0, step, 2 step, ..., 1 of the pixels deleted
(set to the black baseline, all channels), the model's probability of the class predicted for
the intact image is recorded. A faithful method's curve falls fast: a small area under it.
NumPy only; the probabilities come from a function given by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from cnnlens.attribution import images as imaging
from cnnlens.attribution.records import RANDOM

# Input values (images x pixels x channels) per call of the probability function.
VALUES_PER_CALL = 3_200_000


def fractions(step: float) -> np.ndarray:
    """0, step, 2 step, ..., 1 (the last point always 1)."""
    count = round(1.0 / step)
    values = np.minimum(np.arange(count + 1) * step, 1.0)
    return np.unique(np.append(np.round(values, 10), 1.0))


def deleted_counts(points: np.ndarray, pixels: int) -> np.ndarray:
    """How many pixels are deleted at each fraction."""
    return np.rint(points * pixels).astype(np.int64)


def deleted_images(
    images: np.ndarray, baseline: np.ndarray, ranks: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """(F * N, H, W, C): every image with its ``counts[f]`` first-ranked pixels set to the
    baseline, fraction-major."""
    height, width = images.shape[1:3]
    keep = ranks.reshape(1, len(images), height, width) >= counts[:, None, None, None]
    chosen = np.where(keep[..., None], images[None], baseline[None])
    return chosen.reshape(-1, *images.shape[1:]).astype(np.float32)


def curve(
    probability: Callable[[np.ndarray, np.ndarray], np.ndarray],
    images: np.ndarray,
    baseline: np.ndarray,
    classes: np.ndarray,
    ranks: np.ndarray,
    points: np.ndarray,
) -> np.ndarray:
    """(F, N): each image's probability of its class at each fraction deleted."""
    counts = deleted_counts(points, ranks.shape[1])
    per_call = max(1, VALUES_PER_CALL // (len(points) * images[0].size))
    parts = []
    for start in range(0, len(images), per_call):
        chunk = slice(start, start + per_call)
        batch = deleted_images(images[chunk], baseline[chunk], ranks[chunk], counts)
        repeated = np.tile(classes[chunk], len(points))
        parts.append(probability(batch, repeated).reshape(len(points), -1))
    return np.concatenate(parts, axis=1)


def deletion_curves(
    probability: Callable[[np.ndarray, np.ndarray], np.ndarray],
    images: np.ndarray,
    baseline: np.ndarray,
    classes: np.ndarray,
    relevance: Mapping[str, np.ndarray],
    step: float,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Per method (and ``random``), the probability (F, N) at each fraction deleted.

    ``probability(images, classes)`` gives each image's probability of its class;
    ``relevance`` maps each method to (N, H, W)."""
    points = fractions(step)
    pixels = images.shape[1] * images.shape[2]
    orders = {name: imaging.pixel_ranks(values, rng) for name, values in relevance.items()}
    orders[RANDOM] = imaging.random_ranks(len(images), pixels, rng)
    return {
        name: curve(probability, images, baseline, classes, ranks, points)
        for name, ranks in orders.items()
    }


def curve_rows(curves: Mapping[str, np.ndarray], step: float) -> list[dict[str, Any]]:
    """deletion.csv: ``method, fraction, probability`` (the mean over the images)."""
    points = fractions(step)
    return [
        {"method": name, "fraction": f"{point:.4g}", "probability": f"{mean:.6f}"}
        for name, values in curves.items()
        for point, mean in zip(points, values.mean(axis=1))
    ]


def area(points: np.ndarray, probabilities: np.ndarray) -> float:
    """The area under a mean curve (trapezoid rule over the fractions)."""
    heights = np.asarray(probabilities, dtype=np.float64)
    return float(np.sum((heights[1:] + heights[:-1]) / 2 * np.diff(points)))


def summary_rows(curves: Mapping[str, np.ndarray], step: float) -> list[dict[str, Any]]:
    """deletion_summary.csv: per method, the area under its mean curve (smaller: the method's
    pixels matter more), the probability with 10 % and 20 % deleted, and the images."""
    points = fractions(step)
    rows = []
    for name, values in curves.items():
        mean = values.mean(axis=1)
        rows.append({
            "method": name,
            "area": f"{area(points, mean):.4f}",
            "probability_at_10pct": f"{np.interp(0.1, points, mean):.4f}",
            "probability_at_20pct": f"{np.interp(0.2, points, mean):.4f}",
            "images": values.shape[1],
        })
    return rows
