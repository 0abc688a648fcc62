"""What the study's searches found, as plain arrays: the variants' OIPs of a layer and the
hand series. No TensorFlow (the figure job reads them)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from cnnlens.oip.results import SearchResult


@dataclasses.dataclass
class HandSeries:
    """One map climbed from starts of one noise scale per series, several seeds each."""

    layer: str
    map: int
    scales: np.ndarray  # (series,)
    snapshot_steps: np.ndarray  # (S,)
    snapshots: np.ndarray  # (S, series, seeds, H, W, C)
    history: np.ndarray  # (series, seeds, steps + 1) objective per step
    objective: np.ndarray  # (series, seeds) final objective, float32 evaluation
    test_max: float  # the map's largest mean activation over the test images

    def arrays(self) -> dict[str, np.ndarray]:
        """The fields as named arrays (for an ``.npz``)."""
        names = [item.name for item in dataclasses.fields(self)]
        return {name: np.asarray(getattr(self, name)) for name in names}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> HandSeries:
        values = {item.name: arrays[item.name] for item in dataclasses.fields(cls)}
        values["layer"], values["map"] = str(values["layer"]), int(values["map"])
        values["test_max"] = float(values["test_max"])
        return cls(**values)


def variant_oips(names: Sequence[str], results: Sequence[SearchResult]) -> dict[str, np.ndarray]:
    """The variants' OIPs of one layer as named arrays: ``variants`` (V,), ``maps`` (T,),
    ``oips`` (V, T, H, W[, C]), ``objectives`` (V, T) and the maps' ``test_max`` (T,)."""
    return {
        "variants": np.asarray(names),
        "maps": results[0].maps,
        "oips": np.stack([result.oips for result in results]),
        "objectives": np.stack([result.objective for result in results]),
        "test_max": results[0].test_max,
    }
