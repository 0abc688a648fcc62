"""What the OIP stage tells the single-map dreams: which maps have the best OIPs, and the OIP
image of each dreamed map (drawn beside its dream). No TensorFlow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from cnnlens.errors import CnnLensError
from cnnlens.files import load_array


def top_oip_maps(rows: Sequence[Mapping[str, str]], count: int) -> list[int]:
    """The ``count`` maps whose OIPs scored highest in an OIP summary (columns ``map``,
    ``status``, ``objective``); maps called dead, or with no positive objective, are skipped."""
    if count == 0:
        return []
    missing = {"map", "status", "objective"} - set(rows[0] if rows else {})
    if missing:
        raise CnnLensError(
            f"the OIP summary lacks the columns {sorted(missing)}; rerun the oip stage"
        )
    scored = [
        (float(row["objective"]), int(row["map"]))
        for row in rows
        if row["status"] != "dead" and float(row["objective"]) > 0
    ]
    return [index for _, index in sorted(scored, key=lambda pair: (-pair[0], pair[1]))[:count]]


def map_oips(
    paths: Sequence[str], maps: Sequence[int], shape: Sequence[int]
) -> np.ndarray | None:
    """The OIPs (M, *shape) of ``maps`` from the OIP stage's per-map arrays, ``paths[k]`` being
    map k's; None when there are no paths (the OIP stage does not cover the layer)."""
    if not paths:
        return None
    return np.stack([load_array(paths[index]).reshape(tuple(shape)) for index in maps])
