"""Correlations between the maps of two networks' layers, accumulated batch by batch.

A map's activation is its whole activation map: every position of every test image is a
sample (N x H x W values per map), as in Li et al., *Convergent learning: do different neural
networks learn the same representations?* (ICLR 2016). Two maps correlate only when they
fire on the same images *at the same places*, which is stricter than correlating their
spatial means (N values per map): maps that fire on the same digits but on different strokes
have correlated means but not correlated maps. Both networks have the same architecture, so
their positions correspond one to one.
"""

from __future__ import annotations

import numpy as np


def samples(activations: np.ndarray) -> np.ndarray:
    """A layer's activations as samples x maps, float64: (N, H, W, C) -> (N*H*W, C); a dense
    layer's (N, U) as it is."""
    values = np.asarray(activations, dtype=np.float64)
    return values.reshape(-1, values.shape[-1])


class CrossCorrelation:
    """Pearson correlation of every map of layer a with every map of layer b over the samples
    of all batches added. The sums are taken around the first batch's means (shifted data
    keep the variance from cancelling), in float64."""

    def __init__(self) -> None:
        self.count = 0
        self.shift: tuple[np.ndarray, np.ndarray] | None = None
        self.sums: list[np.ndarray] = []
        self.squares: list[np.ndarray] = []
        self.cross: np.ndarray | None = None

    def add(self, first: np.ndarray, second: np.ndarray) -> None:
        """One batch of both layers' activations, of the same images."""
        a, b = samples(first), samples(second)
        if len(a) != len(b):
            raise ValueError(f"{len(a)} samples of one layer against {len(b)} of the other")
        if self.shift is None:
            self.shift = (a.mean(axis=0), b.mean(axis=0))
            self.sums = [np.zeros(a.shape[1]), np.zeros(b.shape[1])]
            self.squares = [np.zeros(a.shape[1]), np.zeros(b.shape[1])]
            self.cross = np.zeros((a.shape[1], b.shape[1]))
        a, b = a - self.shift[0], b - self.shift[1]
        for index, values in enumerate((a, b)):
            self.sums[index] += values.sum(axis=0)
            self.squares[index] += np.einsum("ij,ij->j", values, values)
        self.cross += a.T @ b
        self.count += len(a)

    def correlation(self) -> np.ndarray:
        """(maps of a, maps of b): r of every pair; 0 where a map never varies (a dead map
        correlates with nothing)."""
        if self.cross is None:
            raise ValueError("no batch added")
        means = [total / self.count for total in self.sums]
        spreads = [
            np.sqrt(np.maximum(square / self.count - mean**2, 0.0))
            for square, mean in zip(self.squares, means)
        ]
        covariance = self.cross / self.count - np.outer(means[0], means[1])
        scale = np.outer(spreads[0], spreads[1])
        varying = scale > 1e-12 * max(float(scale.max(initial=0.0)), 1e-300)
        r = np.divide(covariance, scale, out=np.zeros_like(covariance), where=varying)
        return np.clip(r, -1.0, 1.0)
