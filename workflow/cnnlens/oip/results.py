"""What an OIP search found: the result of a chunk of maps, saved and gathered, summarised per
map, and written out as the per-map arrays and tables. No TensorFlow (the figure jobs read it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from cnnlens import integrity
from cnnlens.errors import CnnLensError
from cnnlens.files import atomic_path, save_array, write_csv
from cnnlens.oip.similarity import SIMILARITY_SHIFT, restart_similarity

SUMMARY_COLUMNS = (
    "map",
    "status",
    "objective",
    "best_restart",
    "restarts",
    "candidates",
    "revived_restarts",
    "revival_steps",
    "converged_step",
    "restart_similarity",
    "shifted_similarity",
    "test_max",
    "test_p99",
    "beats_test",
)
NODE_SUMMARY_COLUMNS = ("map", "node", *SUMMARY_COLUMNS[1:])


@dataclass
class SearchResult:
    """Everything a search found for T targets with R restarts (arrays target-first); an
    image is (H, W) for a grey model and (H, W, C) for a colour one."""

    layer: str
    maps: np.ndarray  # (T,)
    nodes: np.ndarray  # (T, 2); -1 for a map's mean
    restart_images: np.ndarray  # (T, R, H, W[, C]) final image of every restart
    restart_objectives: np.ndarray  # (T, R) their objective, float32 evaluation
    histories: np.ndarray  # (T, R, steps + 1)
    snapshots: np.ndarray  # (T, S, H, W[, C]) of the best restart
    snapshot_steps: np.ndarray  # (S,)
    converged_step: np.ndarray  # (T, R), -1 if never
    candidates: np.ndarray  # (T,) screen candidates tried
    revived: np.ndarray  # (T, R) restarts that climbed their pre-activation first
    revival_steps: np.ndarray  # (T,) extra revival steps spent on the target
    test_max: np.ndarray  # (T,) the map's largest mean activation over the test images
    test_p99: np.ndarray  # (T,) its 99th percentile

    @property
    def best_restart(self) -> np.ndarray:
        return np.argmax(self.restart_objectives, axis=1)

    @property
    def oips(self) -> np.ndarray:
        """(T, H, W[, C]) float32: the best restart's image of every target."""
        return self.restart_images[np.arange(len(self.maps)), self.best_restart]

    @property
    def objective(self) -> np.ndarray:
        return self.restart_objectives.max(axis=1)

    @property
    def dead(self) -> np.ndarray:
        return ~(self.objective > 0)

    def save(self, path: str | os.PathLike) -> None:
        """Write all arrays to one ``.npz`` atomically."""
        arrays = {item.name: getattr(self, item.name) for item in fields(self)}
        arrays["layer"] = np.array(self.layer)
        with atomic_path(path) as temporary, open(temporary, "wb") as stream:
            np.savez(stream, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> SearchResult:
        with integrity.reading(path, "OIP search result") as location, np.load(location) as stored:
            values = {item.name: stored[item.name] for item in fields(cls)}
        values["layer"] = str(values["layer"])
        return cls(**values)

    @classmethod
    def concatenate(cls, parts: Sequence[SearchResult]) -> SearchResult:
        """One result from the results of chunks of the same layer, in map order."""
        if not parts or len({part.layer for part in parts}) != 1:
            raise CnnLensError("OIP chunks of exactly one layer are needed to gather a layer")
        merged = {
            item.name: np.concatenate([getattr(part, item.name) for part in parts])
            for item in fields(cls)
            if item.name not in ("layer", "snapshot_steps")
        }
        order = np.lexsort((merged["nodes"][:, 1], merged["nodes"][:, 0], merged["maps"]))
        merged = {name: values[order] for name, values in merged.items()}
        return cls(layer=parts[0].layer, snapshot_steps=parts[0].snapshot_steps, **merged)


def gather_chunks(paths: Sequence[str | os.PathLike]) -> SearchResult:
    """The layer's result from its chunks' files."""
    return SearchResult.concatenate([SearchResult.load(path) for path in paths])


def summary_rows(result: SearchResult) -> list[dict[str, Any]]:
    """One row per target: the columns of :data:`SUMMARY_COLUMNS` (plus node for node OIPs)."""
    alive = result.restart_objectives > 0
    similarity = restart_similarity(result.restart_images, alive)
    shifted = restart_similarity(result.restart_images, alive, SIMILARITY_SHIFT)
    best = result.best_restart
    rows = []
    for t in range(len(result.maps)):
        objective = float(result.objective[t])
        row = {
            "map": int(result.maps[t]),
            "status": "dead" if result.dead[t] else "ok",
            "objective": f"{objective:.6g}",
            "best_restart": int(best[t]),
            "restarts": result.restart_objectives.shape[1],
            "candidates": int(result.candidates[t]),
            "revived_restarts": int(result.revived[t].sum()),
            "revival_steps": int(result.revival_steps[t]),
            "converged_step": int(result.converged_step[t, best[t]]),
            "restart_similarity": _format(similarity[t]),
            "shifted_similarity": _format(shifted[t]),
            "test_max": _format(result.test_max[t]),
            "test_p99": _format(result.test_p99[t]),
            "beats_test": bool(objective > result.test_max[t])
            if np.isfinite(result.test_max[t])
            else "",
        }
        if result.nodes[t, 0] >= 0:
            node = f"{result.nodes[t, 0]},{result.nodes[t, 1]}"
            row = {"map": row.pop("map"), "node": node, **row}
        rows.append(row)
    return rows


def _format(value: float) -> str:
    return "" if not np.isfinite(value) else f"{float(value):.6g}"


def layer_counts(result: SearchResult) -> dict[str, int]:
    """Maps with an OIP, maps, dead maps, and maps whose OIP beats every test image."""
    return {
        "maps": len(result.maps),
        "ok": int((~result.dead).sum()),
        "dead": int(result.dead.sum()),
        "beats_test": int((result.objective > result.test_max).sum()),
        "test_silent": int((result.test_max <= 0).sum()),
    }


def check_outputs(result: SearchResult, paths: Sequence[str | os.PathLike], kind: str) -> None:
    """Raise unless there is one output path per map of ``result``."""
    if len(paths) != len(result.maps):
        raise CnnLensError(
            f"{len(paths)} {kind} paths for {len(result.maps)} maps of {result.layer}; the "
            "chunks do not cover the layer: delete results/oips and rerun"
        )


def save_layer(
    result: SearchResult, map_paths: Sequence[str | os.PathLike], summary_path: str | os.PathLike
) -> None:
    """Each map's OIP as ``map_NNN.npy`` ((H, W) float32, (H, W, C) for a colour model) and
    the layer's summary.csv."""
    check_outputs(result, map_paths, "OIP array")
    for image, path in zip(result.oips, map_paths):
        save_array(path, image.astype(np.float32))
    write_csv(summary_path, summary_rows(result), SUMMARY_COLUMNS)


def node_grids(result: SearchResult) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Per map of a node search, in search order: (map, OIPs (h, w, H, W[, C]), objectives
    (h, w)) with (h, w) the map's nodes."""
    grids = []
    for map_index in dict.fromkeys(result.maps.tolist()):
        chosen = result.maps == map_index
        nodes = result.nodes[chosen]
        height, width = nodes.max(axis=0) + 1
        images = np.zeros((height, width, *result.oips.shape[1:]), np.float32)
        values = np.zeros((height, width), np.float32)
        images[nodes[:, 0], nodes[:, 1]] = result.oips[chosen]
        values[nodes[:, 0], nodes[:, 1]] = result.objective[chosen]
        grids.append((int(map_index), images, values))
    return grids


def save_nodes(
    result: SearchResult, array_paths: Sequence[str | os.PathLike], summary_path: str | os.PathLike
) -> None:
    """Each map's node OIPs as one (h, w, H, W[, C]) array, and one summary row per node."""
    grids = node_grids(result)
    if len(grids) != len(array_paths):
        raise CnnLensError(
            f"{len(array_paths)} node OIP paths for {len(grids)} maps; fix oip.node_oips.maps"
        )
    for (_, images, _), path in zip(grids, array_paths):
        save_array(path, images)
    write_csv(summary_path, summary_rows(result), NODE_SUMMARY_COLUMNS)
