"""Class statistics over the test set: per class and unit the mean and variance of a layer's
activation, and per image each map's mean activation; accumulated batch by batch, saved and
loaded as ``.npz``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from cnnlens.files import load_arrays, save_arrays
from cnnlens.errors import CnnLensError

STATISTICS_FIELDS = ("counts", "mean", "variance", "map_means")


def map_means(activations: np.ndarray) -> np.ndarray:
    """Each map's mean activation per image: (N, H, W, C) -> (N, C); dense (N, U) unchanged."""
    values = np.asarray(activations)
    return values.mean(axis=(1, 2)) if values.ndim == 4 else values


@dataclass
class LayerStatistics:
    """Per class and unit: image count, mean and (population) variance of the activation;
    per image: each map's mean activation."""

    counts: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    map_means: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return self.mean.shape[1:]


@dataclass
class ClassStatistics:
    """:class:`LayerStatistics` for each layer, the label of every image, and the name of the
    model's output layer (whose nodes are the classes)."""

    labels: np.ndarray
    output_layer: str
    layers: dict[str, LayerStatistics] = field(default_factory=dict)

    def layer(self, name: str) -> LayerStatistics:
        if name not in self.layers:
            raise CnnLensError(
                f"no class statistics for layer {name!r}; add it to activations.layers "
                f"(computed: {', '.join(self.layers)})"
            )
        return self.layers[name]


class ClassStatisticsAccumulator:
    """Sums of activations and squares per class and unit, fed batch by batch."""

    def __init__(self, num_classes: int, output_layer: str) -> None:
        self.num_classes = num_classes
        self.output_layer = output_layer
        self.sums: dict[str, np.ndarray] = {}
        self.squares: dict[str, np.ndarray] = {}
        self.map_means: dict[str, list[np.ndarray]] = {}
        self.labels: list[np.ndarray] = []

    def add(self, activations: Mapping[str, np.ndarray], labels: np.ndarray) -> None:
        """Add one batch: {layer: (B, *shape)} and the batch's integer labels (B,)."""
        labels = np.asarray(labels).astype(np.int64)
        membership = np.eye(self.num_classes)[labels].T  # (classes, B)
        self.labels.append(labels)
        for name, values in activations.items():
            flat = np.asarray(values, dtype=np.float64).reshape(len(labels), -1)
            if name not in self.sums:
                self.sums[name] = np.zeros((self.num_classes, *values.shape[1:]))
                self.squares[name] = np.zeros_like(self.sums[name])
                self.map_means[name] = []
            self.sums[name] += (membership @ flat).reshape(self.sums[name].shape)
            self.squares[name] += (membership @ flat**2).reshape(self.sums[name].shape)
            self.map_means[name].append(map_means(values).astype(np.float32))

    def result(self) -> ClassStatistics:
        """The statistics of every batch added so far."""
        labels = np.concatenate(self.labels) if self.labels else np.zeros(0, dtype=np.int64)
        counts = np.bincount(labels, minlength=self.num_classes)
        divisor = np.maximum(counts, 1).astype(np.float64)
        statistics = ClassStatistics(labels, self.output_layer)
        for name, sums in self.sums.items():
            per_class = divisor.reshape(-1, *([1] * (sums.ndim - 1)))
            mean = sums / per_class
            variance = np.maximum(self.squares[name] / per_class - mean**2, 0.0)
            statistics.layers[name] = LayerStatistics(
                counts, mean, variance, np.concatenate(self.map_means[name])
            )
        return statistics


def save_class_statistics(path: str | os.PathLike, statistics: ClassStatistics) -> None:
    """Store class statistics as ``.npz`` (``<layer>:<field>`` per layer)."""
    arrays: dict[str, np.ndarray] = {
        "labels": statistics.labels,
        "output_layer": np.array(statistics.output_layer),
        "layers": np.array(list(statistics.layers)),
    }
    for name, layer in statistics.layers.items():
        arrays.update(
            {
                f"{name}:counts": layer.counts,
                f"{name}:mean": layer.mean.astype(np.float32),
                f"{name}:variance": layer.variance.astype(np.float32),
                f"{name}:map_means": layer.map_means,
            }
        )
    save_arrays(path, arrays)


def load_class_statistics(path: str | os.PathLike) -> ClassStatistics:
    """Read back what :func:`save_class_statistics` stored."""
    stored = load_arrays(path)
    statistics = ClassStatistics(stored["labels"], str(stored["output_layer"]))
    for name in map(str, stored["layers"]):
        statistics.layers[name] = LayerStatistics(
            *(stored[f"{name}:{part}"] for part in STATISTICS_FIELDS)
        )
    return statistics
