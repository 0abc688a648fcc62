"""The OIP search (SPEC 4): for every chosen map of a conv layer, the input it reacts to most.

All maps of a chunk and all their restarts are optimised together by the batched engine of
:mod:`cnnlens.ascent`. The search, per (map, restart):

1. Start image: multi-scale noise seeded per (layer, map, restart) (:mod:`cnnlens.noise`);
   with the *staged* strategy only the longest-range scale at first, finer scales added at
   configured steps.
2. Precursor screen: a start the map does not react to (objective exactly 0) is replaced by the
   best of ``candidates`` other starts with long-range scales favoured, each climbed briefly;
   "best" is the highest objective, or, when all are still 0, the one closest to firing (the
   highest pre-activation).
3. Ascent for ``steps`` steps with revival: an image still at 0 climbs its map's pre-activation
   until the map fires, then the map's mean activation (or one node's activation).
4. Maps whose every restart is still at 0 get ``extra_steps`` more steps of revival.
A map is ``dead`` only when nothing woke it. The best restart is the map's OIP; the summary
records the tries, the convergence, how alike the restarts' results are, and how the OIP
compares with the map's mean activation on the real test images.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from cnnlens import noise
from cnnlens.ascent import (
    AscentEngine,
    AscentResult,
    AscentSettings,
    Objective,
    map_objective,
    resolve_compute_dtype,
    run_ascent,
)
from cnnlens.data import standardise_images
from cnnlens.errors import CnnLensError
from cnnlens.files import atomic_path

if TYPE_CHECKING:
    import keras

log = logging.getLogger(__name__)

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
#: Shifts (pixels) within which restarts' OIPs count as the same pattern moved elsewhere.
SIMILARITY_SHIFT = 4


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchSettings:
    """The ``oip`` section of config.yaml that shapes one search."""

    seed: int
    restarts: int = 4
    steps: int = 400
    epsilon: float = 0.01
    threshold: float = 5e-4
    patience: int = 10
    early_stop: bool = False
    snapshot_steps: tuple[int, ...] = ()
    scales: tuple[int, ...] = (3, 7, 14, 28)
    factors: tuple[float, ...] = (0.5, 0.5, 0.5, 0.5)
    staged: bool = False
    stage_starts: tuple[int, ...] = (20, 40, 80)
    candidates: int = 16
    screen_steps: int = 10
    candidate_scales: tuple[int, ...] = (2, 3, 5, 7)
    candidate_factors: tuple[float, ...] = (1.0, 1.0, 0.5, 0.25)
    revival_pooling: str = "max"
    extra_steps: int = 1500
    compute_dtype: str = "float32"
    batch_size: int = 512

    @classmethod
    def from_config(cls, oip: Mapping[str, Any], seed: int) -> SearchSettings:
        """Settings from the validated ``oip`` config section and the global seed."""
        steps = oip["steps"]
        snapshots = oip["snapshot_steps"]
        settings = cls(
            seed=seed,
            restarts=oip["restarts"],
            steps=steps,
            epsilon=oip["epsilon"],
            threshold=oip["convergence"]["threshold"],
            patience=oip["convergence"]["patience"],
            early_stop=oip["convergence"]["early_stop"],
            snapshot_steps=tuple(snapshots) if snapshots else log_snapshot_steps(steps),
            scales=tuple(oip["noise"]["scales"]),
            factors=tuple(oip["noise"]["factors"]),
            staged=oip["strategy"]["kind"] == "staged",
            stage_starts=tuple(oip["strategy"]["stage_starts"]),
            candidates=oip["revival"]["candidates"],
            screen_steps=oip["revival"]["screen_steps"],
            candidate_scales=tuple(oip["revival"]["scales"]),
            candidate_factors=tuple(oip["revival"]["factors"]),
            revival_pooling=oip["revival"]["pooling"],
            extra_steps=oip["revival"]["extra_steps"],
            compute_dtype=oip["compute_dtype"],
            batch_size=oip["batch_size"],
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Raise a one-line error for settings that do not fit together."""
        noise.check_scales(self.scales, self.factors)
        noise.check_scales(self.candidate_scales, self.candidate_factors)
        self.ascent()  # checks steps and snapshots
        if self.staged:
            expected = len(self.scales) - 1
            starts = list(self.stage_starts)
            if (
                len(starts) != expected
                or starts != sorted(starts)
                or (starts and not 0 < starts[0] <= starts[-1] < self.steps)
            ):
                raise CnnLensError(
                    f"oip.strategy.stage_starts {starts} must give, in increasing order within "
                    f"1..{self.steps - 1}, the step at which each of the {expected} finer noise "
                    "scales is added; fix it in config.yaml"
                )

    def ascent(self, steps: int | None = None, early_stop: bool | None = None) -> AscentSettings:
        """Engine settings for a climb of ``steps`` steps (default: the full search)."""
        steps = self.steps if steps is None else steps
        return AscentSettings(
            steps=steps,
            epsilon=self.epsilon,
            threshold=self.threshold,
            patience=self.patience,
            early_stop=self.early_stop if early_stop is None else early_stop,
            snapshot_steps=tuple(s for s in self.snapshot_steps if s <= steps),
            chunk_size=self.batch_size,
        )

    def brief_ascent(self, steps: int) -> AscentSettings:
        """Engine settings of a side climb (screen, extra revival): no snapshots, no stop."""
        return replace(self.ascent(steps, early_stop=False), snapshot_steps=())


def log_snapshot_steps(steps: int, first: int = 9) -> tuple[int, ...]:
    """0, then ``first`` doubling (9, 18, 36, ...) below ``steps``, then ``steps`` (SPEC 4.4)."""
    snapshot_steps = [0]
    step = first
    while step < steps:
        snapshot_steps.append(step)
        step *= 2
    if steps > 0:
        snapshot_steps.append(steps)
    return tuple(snapshot_steps)


def map_chunks(maps: int, per_job: int | None) -> list[tuple[int, int]]:
    """(first, last) map index of each job's chunk; ``per_job`` None: the whole layer."""
    size = maps if not per_job else per_job
    return [(first, min(first + size, maps) - 1) for first in range(0, maps, size)]


# --------------------------------------------------------------------------------------------
# Targets and the result of a search
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """What is searched for: maps of one layer, each as a whole or at one node (i, j)."""

    layer: str
    maps: np.ndarray  # (T,) map indices
    nodes: np.ndarray | None = None  # (T, 2) node positions, None for the maps' mean

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

    def objective(self, engine: AscentEngine, restarts: int, revive: bool) -> Objective:
        """The engine objective of every (target, restart)."""
        nodes = None if self.nodes is None else np.repeat(self.nodes, restarts, axis=0)
        return map_objective(engine, self.layer, np.repeat(self.maps, restarts), nodes, revive)


@dataclass
class SearchResult:
    """Everything a search found for T targets with R restarts (arrays target-first)."""

    layer: str
    maps: np.ndarray  # (T,)
    nodes: np.ndarray  # (T, 2); -1 for a map's mean
    restart_images: np.ndarray  # (T, R, 28, 28) final image of every restart
    restart_objectives: np.ndarray  # (T, R) their objective, float32 evaluation
    histories: np.ndarray  # (T, R, steps + 1)
    snapshots: np.ndarray  # (T, S, 28, 28) of the best restart
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
        """(T, 28, 28) float32: the best restart's image of every target."""
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
        try:
            with np.load(path) as stored:
                values = {item.name: stored[item.name] for item in fields(cls)}
        except (OSError, KeyError, ValueError) as error:
            raise CnnLensError(
                f"cannot read the OIP search result {path} ({error}); delete it and rerun"
            ) from None
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


# --------------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------------


class OipSearch:
    """Engines for one layer (float32 evaluation beside the ascent's compute dtype)."""

    def __init__(self, model: keras.Model, layer: str, settings: SearchSettings) -> None:
        self.layer = layer
        self.settings = settings
        compute_dtype = resolve_compute_dtype(settings.compute_dtype)
        log.info("%s: ascent computes in %s", layer, compute_dtype)
        self.engine = AscentEngine(
            model, [layer], compute_dtype=compute_dtype, revival=settings.revival_pooling
        )
        self.evaluator = (
            self.engine
            if compute_dtype == "float32"
            else AscentEngine(model, [layer], revival=settings.revival_pooling)
        )

    @property
    def maps(self) -> int:
        return self.engine.channels[0]

    def run(self, targets: Targets, test_images: np.ndarray | None = None) -> SearchResult:
        """Search OIPs for all targets together; test statistics when test images are given."""
        settings = self.settings
        restarts = settings.restarts
        objective = targets.objective(self.engine, restarts, revive=True)
        components = noise.scale_components(targets.keys(settings.seed, restarts), settings.scales)
        starts = self._stage_start(components)
        starts, candidates = self._screen(targets, starts, objective)
        climb = self._climb(starts, objective, components)
        revived = climb.history[:, 0] <= 0
        values = self.evaluator.objective(climb.images, objective, settings.batch_size)
        images, values, revival_steps = self._revive_dead(climb.images, values, objective)
        return self._result(
            targets, images, values, climb, candidates, revived, revival_steps, test_images
        )

    # ---- steps of the search ----

    def _stage_start(self, components: np.ndarray) -> np.ndarray:
        """Start images: all scales, or (staged) only the longest-range one."""
        factors = np.asarray(self.settings.factors)
        if self.settings.staged:
            factors = np.where(np.arange(len(factors)) == self._stage_order()[0], factors, 0.0)
        return noise.combine(components, factors)

    def _stage_order(self) -> np.ndarray:
        """Scale indices from the longest range (fewest cells) to the shortest."""
        return np.argsort(self.settings.scales, kind="stable")

    def _screen(
        self, targets: Targets, starts: np.ndarray, objective: Objective
    ) -> tuple[np.ndarray, np.ndarray]:
        """Replace starts at objective 0 by their best screen candidate; count candidates."""
        settings = self.settings
        restarts = settings.restarts
        tried = np.zeros(targets.count, np.int64)
        stuck = np.flatnonzero(self.engine.objective(starts, objective, settings.batch_size) <= 0)
        if not stuck.size or settings.candidates == 0:
            return starts, tried
        pairs = [(index // restarts, index % restarts) for index in stuck]
        keys = targets.candidate_keys(settings.seed, pairs, settings.candidates)
        images = noise.multiscale_noise(keys, settings.candidate_scales, settings.candidate_factors)
        screen_objective = objective.take(np.repeat(stuck, settings.candidates))
        screened = run_ascent(
            self.engine, images, screen_objective, settings.brief_ascent(settings.screen_steps)
        )
        best = self._best_candidates(screened.images, screened.objective, screen_objective)
        starts = starts.copy()
        starts[stuck] = best
        np.add.at(tried, stuck // restarts, settings.candidates)
        log.info(
            "%s: %d of %d starts at zero; screened %d candidates",
            self.layer,
            stuck.size,
            len(starts),
            len(images),
        )
        return starts, tried

    def _best_candidates(
        self, images: np.ndarray, values: np.ndarray, objective: Objective
    ) -> np.ndarray:
        """Per stuck start, its candidate with the highest objective, or, all at 0, the one
        closest to firing (highest revival score)."""
        count = self.settings.candidates
        closeness = self.engine.revival_score(images, objective, self.settings.batch_size)
        rank = np.where(values > 0, values, -np.inf)
        fallback = closeness.reshape(-1, count).argmax(axis=1)
        best = np.where(
            np.isfinite(rank.reshape(-1, count).max(axis=1)),
            rank.reshape(-1, count).argmax(axis=1),
            fallback,
        )
        return images.reshape(-1, count, *images.shape[1:])[np.arange(len(best)), best]

    def _climb(
        self, starts: np.ndarray, objective: Objective, components: np.ndarray
    ) -> AscentResult:
        """The main ascent, in stages when finer scales are added along the way."""
        settings = self.settings
        if not settings.staged:
            return run_ascent(self.engine, starts, objective, settings.ascent())
        order = self._stage_order()
        boundaries = [0, *settings.stage_starts, settings.steps]
        parts = []
        images = starts
        for stage, (begin, end) in enumerate(zip(boundaries[:-1], boundaries[1:])):
            if stage:
                added = settings.factors[order[stage]] * components[order[stage]][..., None]
                images = standardise_images(images + added)
            last = end == settings.steps
            part = run_ascent(
                self.engine, images, objective, _segment_settings(settings, begin, end, last)
            )
            parts.append((begin, part))
            images = part.images
        return _join_segments(parts, settings)

    def _revive_dead(
        self, images: np.ndarray, values: np.ndarray, objective: Objective
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Extra revival steps for targets whose every restart is still at 0: new images,
        their objectives, and the extra steps each target got."""
        restarts, extra_steps = self.settings.restarts, self.settings.extra_steps
        dead = np.flatnonzero((values.reshape(-1, restarts) <= 0).all(axis=1))
        revival_steps = np.zeros(len(values) // restarts, np.int64)
        if not dead.size or extra_steps == 0:
            return images, values, revival_steps
        rows = (dead[:, None] * restarts + np.arange(restarts)).reshape(-1)
        extra = run_ascent(
            self.engine, images[rows], objective.take(rows), self.settings.brief_ascent(extra_steps)
        )
        images, values = images.copy(), values.copy()
        images[rows] = extra.images
        values[rows] = self.evaluator.objective(extra.images, objective.take(rows))
        revival_steps[dead] = extra_steps
        woke = int((values[rows].reshape(-1, restarts) > 0).any(axis=1).sum())
        log.info(
            "%s: %d targets still at zero after the ascent; %d extra revival steps woke %d",
            self.layer,
            dead.size,
            extra_steps,
            woke,
        )
        return images, values, revival_steps

    def _result(
        self, targets, images, values, climb, candidates, revived, revival_steps, test_images
    ) -> SearchResult:
        settings = self.settings
        shape = (targets.count, settings.restarts)
        restart_images = images[..., 0].reshape(*shape, *images.shape[1:3])
        restart_objectives = values.reshape(shape)
        best = restart_objectives.argmax(axis=1)
        snapshots = climb.snapshots.reshape(len(climb.snapshot_steps), *shape, *images.shape[1:3])
        test_max, test_p99 = self.test_statistics(targets.maps, test_images)
        return SearchResult(
            layer=targets.layer,
            maps=targets.maps,
            nodes=np.full((targets.count, 2), -1) if targets.nodes is None else targets.nodes,
            restart_images=restart_images.astype(np.float32),
            restart_objectives=restart_objectives.astype(np.float32),
            histories=climb.history.reshape(*shape, -1),
            snapshots=snapshots[:, np.arange(targets.count), best].transpose(1, 0, 2, 3),
            snapshot_steps=np.asarray(climb.snapshot_steps, np.int64),
            converged_step=climb.converged_step.reshape(shape),
            candidates=candidates,
            revived=revived.reshape(shape),
            revival_steps=revival_steps,
            test_max=test_max,
            test_p99=test_p99,
        )

    def test_statistics(
        self, maps: np.ndarray, test_images: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per map: max and 99th percentile of its mean activation over the test images."""
        if test_images is None or not len(test_images):
            nan = np.full(len(maps), np.nan, np.float32)
            return nan, nan.copy()
        activations = self.evaluator.mean_activations(test_images, self.settings.batch_size)[0]
        chosen = activations[:, maps]
        return chosen.max(axis=0), np.percentile(chosen, 99, axis=0).astype(np.float32)


def _segment_settings(settings: SearchSettings, begin: int, end: int, last: bool) -> AscentSettings:
    """Engine settings of one stage: its snapshot steps relative to its start."""
    inside = tuple(
        step - begin
        for step in settings.snapshot_steps
        if begin <= step < end or (last and step == end)
    )
    return replace(
        settings.ascent(end - begin, early_stop=settings.early_stop and last), snapshot_steps=inside
    )


def _join_segments(parts: list[tuple[int, AscentResult]], settings: SearchSettings) -> AscentResult:
    """One result of consecutive stages: histories joined (a stage's first value replaces the
    previous stage's last), snapshots merged, convergence counted in the last stage."""
    first = parts[0][1]
    batch = len(first.images)
    history = np.zeros((batch, settings.steps + 1), np.float32)
    snapshots = []
    for begin, part in parts:
        history[:, begin : begin + part.history.shape[1]] = part.history
        snapshots.append(part.snapshots)
    begin, last = parts[-1]
    converged = np.where(last.converged_step >= 0, last.converged_step + begin, -1)
    return AscentResult(
        images=last.images,
        history=history,
        snapshots=np.concatenate(snapshots) if snapshots else first.snapshots,
        snapshot_steps=settings.snapshot_steps,
        converged_step=converged,
        steps_run=last.steps_run + begin,
    )


# --------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------


def restart_similarity(images: np.ndarray, alive: np.ndarray, max_shift: int = 0) -> np.ndarray:
    """(T,) mean pairwise correlation of the restarts' images (T, R, H, W) that the map fires
    on (``alive`` (T, R)); NaN when fewer than two did. Near 1: the OIP does not depend on the
    start noise; near 0: different local maxima. With ``max_shift`` > 0 each pair counts with
    its best correlation over shifts of up to that many pixels (the same pattern elsewhere)."""
    pairs = list(combinations(range(images.shape[1]), 2))
    if not pairs:
        return np.full(len(images), np.nan)
    first, second = np.array(pairs).T
    values = np.full((len(images), len(pairs)), -np.inf)
    shifts = range(-max_shift, max_shift + 1)
    for rows in shifts:
        for columns in shifts:
            moved = _overlap_correlation(images[:, first], images[:, second], rows, columns)
            values = np.maximum(values, moved)
    both = alive[:, first] & alive[:, second]
    counts = both.sum(axis=1)
    total = np.where(both, values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


def _overlap_correlation(a: np.ndarray, b: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """Pearson correlation of ``a`` shifted by (rows, columns) with ``b`` on their overlap;
    images on the last two axes."""
    height, width = a.shape[-2:]
    a = a[..., max(rows, 0) : height + min(rows, 0), max(columns, 0) : width + min(columns, 0)]
    b = b[..., max(-rows, 0) : height + min(-rows, 0), max(-columns, 0) : width + min(-columns, 0)]
    a = a.reshape(*a.shape[:-2], -1).astype(np.float64)
    b = b.reshape(*b.shape[:-2], -1).astype(np.float64)
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return (a * b).sum(axis=-1) / np.maximum(norms, 1e-12)


def summary_rows(result: SearchResult) -> list[dict[str, Any]]:
    """One row per target: the columns of :data:`SUMMARY_COLUMNS` (plus node for node OIPs)."""
    alive = result.restart_objectives > 0
    similarity = restart_similarity(result.restart_images, alive)
    shifted = restart_similarity(result.restart_images, alive, SIMILARITY_SHIFT)
    best = result.best_restart
    index = np.arange(len(result.maps))
    rows = []
    for t in index:
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
            row = {
                "map": row["map"],
                "node": f"{result.nodes[t, 0]},{result.nodes[t, 1]}",
                **{k: v for k, v in row.items() if k != "map"},
            }
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


def node_targets(layer: str, maps: Sequence[int], shape: tuple[int, int]) -> Targets:
    """Every node (i, j) of every map in ``maps``: map-major, then row, then column."""
    height, width = shape
    grid = np.stack(np.meshgrid(np.arange(height), np.arange(width), indexing="ij"), -1).reshape(
        -1, 2
    )
    maps = np.asarray(maps, np.int64)
    return Targets(layer, np.repeat(maps, len(grid)), np.tile(grid, (len(maps), 1)))


def check_maps(layer: str, maps: Sequence[int], available: int, setting: str) -> None:
    """Raise when a configured map index does not exist in ``layer``."""
    bad = [int(k) for k in maps if not 0 <= int(k) < available]
    if bad:
        raise CnnLensError(
            f"{setting} lists maps {bad} that {layer} does not have (it has 0..{available - 1}); "
            "fix it in config.yaml"
        )


# --------------------------------------------------------------------------------------------
# What the workflow's jobs call
# --------------------------------------------------------------------------------------------

#: Keys of the ``oip`` config section that change a search's results (the search jobs' params).
SEARCH_KEYS = (
    "restarts",
    "steps",
    "epsilon",
    "convergence",
    "snapshot_steps",
    "noise",
    "strategy",
    "revival",
    "compute_dtype",
    "batch_size",
    "test_images",
)


def search_config(oip_config: Mapping[str, Any]) -> dict[str, Any]:
    """The part of the ``oip`` config section a search depends on."""
    return {key: oip_config[key] for key in SEARCH_KEYS}


def chunk_name(first: int, last: int) -> str:
    """File stem of the search result of maps first..last."""
    return f"maps_{first:03d}-{last:03d}"


def chunk_files(
    layer: str, maps: int, per_job: int | None, root: str = "results/oips"
) -> list[str]:
    """The search results of a layer's chunks of maps: {root}/{layer}/chunks/maps_FFF-LLL.npz."""
    return [
        f"{root}/{layer}/chunks/{chunk_name(first, last)}.npz"
        for first, last in map_chunks(maps, per_job)
    ]


def map_files(directory: str, maps: Sequence[int], suffix: str) -> list[str]:
    """One file per map: {directory}/map_NNN{suffix}."""
    return [f"{directory}/map_{int(k):03d}{suffix}" for k in maps]


def first_test_images(test_images: np.ndarray, count: int | None) -> np.ndarray:
    """The first ``count`` test images (all when None)."""
    return test_images if count is None else test_images[:count]


def search_maps(
    model: keras.Model,
    layer: str,
    maps: Sequence[int],
    settings: SearchSettings,
    test_images: np.ndarray | None,
) -> SearchResult:
    """OIPs of ``maps`` of ``layer``, with the maps' test-set statistics."""
    search = OipSearch(model, layer, settings)
    check_maps(layer, maps, search.maps, "the OIP search")
    result = search.run(Targets(layer, maps), test_images)
    log.info("%s maps %d..%d: %s", layer, min(maps), max(maps), layer_counts(result))
    return result


def search_nodes(
    model: keras.Model,
    layer: str,
    maps: Sequence[int],
    settings: SearchSettings,
    test_images: np.ndarray | None = None,
) -> SearchResult:
    """An OIP for every node (i, j) of each map in ``maps`` of ``layer``."""
    search = OipSearch(model, layer, settings)
    check_maps(layer, maps, search.maps, "oip.node_oips.maps")
    targets = node_targets(layer, maps, search.engine.spatial_shape(layer))
    return search.run(targets, test_images)


def gather_chunks(paths: Sequence[str | os.PathLike]) -> SearchResult:
    """The layer's result from its chunks' files."""
    return SearchResult.concatenate([SearchResult.load(path) for path in paths])


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
    """Each map's OIP as ``map_NNN.npy`` (28x28 float32) and the layer's summary.csv."""
    from cnnlens.files import save_array, write_csv

    check_outputs(result, map_paths, "OIP array")
    for image, path in zip(result.oips, map_paths):
        save_array(path, image.astype(np.float32))
    write_csv(summary_path, summary_rows(result), SUMMARY_COLUMNS)


def node_grids(result: SearchResult) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Per map of a node search, in search order: (map, OIPs (H, W, 28, 28), objectives (H, W))."""
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
    """Each map's node OIPs as one (H, W, 28, 28) array, and one summary row per node."""
    from cnnlens.files import save_array, write_csv

    grids = node_grids(result)
    if len(grids) != len(array_paths):
        raise CnnLensError(
            f"{len(array_paths)} node OIP paths for {len(grids)} maps; fix oip.node_oips.maps"
        )
    for (_, images, _), path in zip(grids, array_paths):
        save_array(path, images)
    write_csv(summary_path, summary_rows(result), ("map", "node", *SUMMARY_COLUMNS[1:]))


def check_config(oip_config: Mapping[str, Any], seed: int, layer_maps: Mapping[str, int]) -> None:
    """Raise a one-line CnnLensError for an ``oip`` section that cannot work (checked when the
    workflow starts, before any job runs); ``layer_maps``: maps per conv layer."""
    SearchSettings.from_config(search_config(oip_config), seed)
    nodes = oip_config["node_oips"]
    check_maps(nodes["layer"], nodes["maps"], layer_maps[nodes["layer"]], "oip.node_oips.maps")
