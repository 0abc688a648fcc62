"""What an OIP search looks for: maps of one layer, each as a whole or at one node (i, j),
and the noise keys of their start images. No TensorFlow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cnnlens import noise


@dataclass(frozen=True)
class Targets:
    """Maps of ``layer`` (T,), each as a whole (``nodes`` None) or at node ``nodes[t]``."""

    layer: str
    maps: np.ndarray
    nodes: np.ndarray | None = None  # (T, 2)

    def __post_init__(self) -> None:
        object.__setattr__(self, "maps", np.asarray(self.maps, np.int64).reshape(-1))
        if self.nodes is not None:
            object.__setattr__(self, "nodes", np.asarray(self.nodes, np.int64).reshape(-1, 2))

    @property
    def count(self) -> int:
        return len(self.maps)

    def node_codes(self) -> list[int]:
        """0 for a map's mean; 1 + i * 1000 + j for node (i, j): part of the seed key."""
        if self.nodes is None:
            return [0] * self.count
        return [1 + int(i) * 1000 + int(j) for i, j in self.nodes]

    def keys(self, seed: int, restarts: int) -> list[list[int]]:
        """Noise keys of every (target, restart), target-major."""
        return [
            [*noise.image_key(seed, self.layer, int(k), restart), code]
            for k, code in zip(self.maps, self.node_codes())
            for restart in range(restarts)
        ]

    def candidate_keys(
        self, seed: int, pairs: Sequence[tuple[int, int]], count: int
    ) -> list[list[int]]:
        """Noise keys of ``count`` screen candidates of each (target index, restart) pair."""
        codes = self.node_codes()
        return [
            [*noise.image_key(seed, self.layer, int(self.maps[t]), restart, candidate), codes[t]]
            for t, restart in pairs
            for candidate in range(count)
        ]


def node_targets(layer: str, maps: Sequence[int], shape: tuple[int, int]) -> Targets:
    """Every node (i, j) of every map in ``maps``: map-major, then row, then column."""
    height, width = shape
    grid = np.stack(np.meshgrid(np.arange(height), np.arange(width), indexing="ij"), -1)
    grid = grid.reshape(-1, 2)
    maps = np.asarray(maps, np.int64)
    return Targets(layer, np.repeat(maps, len(grid)), np.tile(grid, (len(maps), 1)))

