"""The OIP search: for every target (a map, or one node of a map) the input it reacts to most.

All targets of a search and all their restarts climb together on the ascent engine
(:mod:`cnnlens.optvis`). Per (target, restart):

1. Start image: multi-scale noise seeded per (layer, map, restart), drawn per channel of the
   model's input and put into its input range (:mod:`cnnlens.noise`); with the *staged*
   strategy only the longest-range scale at first, the finer scales added at
   the configured steps (:class:`cnnlens.noise.StagedNoise`, the climb's schedule).
   The layer's own scales and factors when ``noise.per_layer`` names it.
2. Precursor screen: a start the map does not react to (objective exactly 0) is replaced by the
   best of ``revival.candidates`` other starts with long-range scales favoured, each climbed
   briefly; "best" is the highest objective, or, when all are still 0, the one closest to
   firing (the highest revival score). With ``revival.screen: every`` every start competes
   with its candidates (all climbed briefly); a start that wins stays as it was.
3. Climb for ``steps`` steps with revival: an image still at 0 climbs its map's pre-activation
   until the map fires, then the map's mean activation (or its node's activation).
4. Targets whose every restart is still at 0 get ``revival.extra_steps`` more revival steps.

The options of the climb (step 3; the side climbs of steps 2 and 4 are plain): ``param``
pixel or fourier (:mod:`cnnlens.optvis.param_fourier`); ``transforms``, random warps of the
images inside each step, drawn per (target, restart); ``regularisers``, total variation and L2
penalties and a blur every few steps; ``diversity``, a penalty on the similarity of a
target's restarts (they must share a batch: keep ``batch_size`` a multiple of ``restarts``).
The objectives a search reports (history, best restart) are the targets' activations alone,
the final ones of the unwarped images.

A target is dead only when nothing woke it. The best restart is its OIP: (H, W) for a grey
model, (H, W, C) for a colour one. Every step keeps the images in the model's input range
(``preprocessing``: re-standardised, or clipped to [low, high]; :class:`cnnlens.optvis.param.
Pixels`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import keras
import numpy as np

from cnnlens import noise
from cnnlens.oip.results import SearchResult, layer_counts
from cnnlens.oip.steps import check_search, search_of_layer, snapshot_steps
from cnnlens.oip.targets import Targets, node_targets
from cnnlens.optvis import objectives
from cnnlens.optvis.engine import climbing_and_measuring
from cnnlens.optvis.objectives import Objective
from cnnlens.optvis.param import Param, Pixels
from cnnlens.optvis.param_fourier import Fourier
from cnnlens.optvis.preactivation import resolve_compute_dtype
from cnnlens.optvis.regularisers import Blur
from cnnlens.optvis.render import AscentResult, render
from cnnlens.optvis.transforms import RandomWarp
from cnnlens.preprocessing import Preprocessing
from cnnlens.settings import OipSearch

log = logging.getLogger(__name__)


def search_maps(
    model: keras.Model,
    layer: str,
    maps: Sequence[int],
    search: OipSearch,
    seed: int,
    test_images: np.ndarray | None = None,
    preprocessing: Preprocessing | None = None,
) -> SearchResult:
    """OIPs of ``maps`` of ``layer``, with the maps' statistics on the first
    ``search.test_images`` of ``test_images`` (all when None; prepared for the model), in the
    input range of ``preprocessing`` (None: per-image standardisation)."""
    searcher = LayerSearch(model, layer, search, seed, preprocessing)
    result = searcher.run(Targets(layer, maps), test_images)
    log.info("%s maps %d..%d: %s", layer, min(maps), max(maps), layer_counts(result))
    return result


def search_nodes(
    model: keras.Model,
    layer: str,
    maps: Sequence[int],
    search: OipSearch,
    seed: int,
    preprocessing: Preprocessing | None = None,
) -> SearchResult:
    """An OIP for every node (i, j) of each map in ``maps`` of ``layer``."""
    searcher = LayerSearch(model, layer, search, seed, preprocessing)
    return searcher.run(node_targets(layer, maps, searcher.engine.spatial_shape(layer)))


def target_objective(targets: Targets, restarts: int) -> Objective:
    """Every (target, restart)'s objective, target-major, reviving when stuck at 0."""
    maps = np.repeat(targets.maps, restarts)
    if targets.nodes is None:
        return objectives.channels(targets.layer, maps).revived()
    nodes = np.repeat(targets.nodes, restarts, axis=0)
    return objectives.neurons(targets.layer, maps, nodes).revived()


def climbed_objective(targets: Targets, search: OipSearch) -> Objective:
    """What the main climb climbs: the targets' objective minus the configured penalties
    (total variation, L2, and diversity among each target's restarts)."""
    objective = target_objective(targets, search.restarts)
    regularisers = search.regularisers
    if regularisers.total_variation:
        objective -= regularisers.total_variation * objectives.total_variation()
    if regularisers.l2:
        objective -= regularisers.l2 * objectives.l2()
    if search.diversity:
        groups = np.repeat(np.arange(targets.count), search.restarts)
        objective -= search.diversity * objectives.diversity(targets.layer, groups)
    return objective


def make_param(
    search: OipSearch,
    size: tuple[int, int],
    channels: int,
    preprocessing: Preprocessing | None,
) -> Param:
    """The parameterisation ``search.param`` names, for images of ``size`` and ``channels``."""
    if search.param == "fourier":
        return Fourier(size, channels, preprocessing)
    return Pixels(preprocessing)


class LayerSearch:
    """The search on one layer: its engine (and a float32 one to evaluate results when the
    engine computes in bfloat16) and the steps of a search, in the input range of
    ``preprocessing`` (None: per-image standardisation)."""

    def __init__(
        self,
        model: keras.Model,
        layer: str,
        search: OipSearch,
        seed: int,
        preprocessing: Preprocessing | None = None,
    ) -> None:
        check_search(search)
        search = search_of_layer(search, layer)
        self.layer = layer
        self.search = search
        self.seed = seed
        self.preprocessing = preprocessing
        compute_dtype = resolve_compute_dtype(search.compute_dtype)
        log.info("%s: ascent computes in %s", layer, compute_dtype)
        pooling = search.revival.pooling
        shape = model.input_shape[1:]
        param = make_param(search, shape[:2], shape[2], preprocessing)
        self.engine, self.evaluator = climbing_and_measuring(
            model, [layer], param, preprocessing, compute_dtype, revival=pooling
        )

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the images."""
        return self.engine.input_shape[0], self.engine.input_shape[1]

    @property
    def channels(self) -> int:
        """Channels of the model's input: 1 (grey) or 3 (colour)."""
        return int(self.engine.input_shape[2])

    def start_noise(
        self, keys: list[list[int]], scales: Sequence[int], factors: Sequence[float]
    ) -> np.ndarray:
        """Multi-scale start images of ``keys``, per channel, in the model's input range."""
        images = noise.multiscale_noise(keys, scales, factors, self.size, self.channels)
        return noise.to_input_range(images, self.preprocessing)

    def run(self, targets: Targets, test_images: np.ndarray | None = None) -> SearchResult:
        """Search OIPs for all targets together; test statistics when test images are given."""
        search = self.search
        objective = target_objective(targets, search.restarts)
        self.engine.compile(objective)  # a one-line error for maps or nodes the layer lacks
        starts, schedule = self.start_images(targets)
        starts, candidates = self._screen(targets, starts, objective)
        climb = render(
            self.engine,
            starts,
            climbed_objective(targets, search),
            search.steps,
            search.epsilon,
            convergence=search.convergence,
            snapshot_steps=snapshot_steps(search),
            schedule=schedule,
            batch_size=search.batch_size,
            warps=self._warps(targets),
            blur=self._blur(),
        )
        values = self.evaluator.objective(climb.images, objective, search.batch_size)
        images, values, revival_steps = self._revive_dead(climb.images, values, objective)
        test_max, test_p99 = self.test_statistics(targets.maps, test_images)
        return _result(
            targets, search.restarts, images, values, climb, candidates, revival_steps, test_max,
            test_p99,
        )

    def _warps(self, targets: Targets):
        """The climb's random warps, drawn per (target, restart), or None."""
        transforms = self.search.transforms
        warp = RandomWarp(transforms.jitter, transforms.scale, transforms.rotate)
        if not warp.active:
            return None
        keys = targets.keys(self.seed, self.search.restarts)
        return warp.begin(self.search.steps, keys, self.size)

    def _blur(self) -> Blur | None:
        regularisers = self.search.regularisers
        if not regularisers.blur_every:
            return None
        return Blur(regularisers.blur_every, regularisers.blur_sigma)

    def start_images(self, targets: Targets) -> tuple[np.ndarray, noise.StagedNoise | None]:
        """Every (target, restart)'s start image and, with the staged strategy, the schedule
        that adds the finer scales along the way."""
        search = self.search
        keys = targets.keys(self.seed, search.restarts)
        if search.strategy.kind != "staged":
            return self.start_noise(keys, search.noise.scales, search.noise.factors), None
        components = noise.scale_components(keys, search.noise.scales, self.size, self.channels)
        schedule = noise.StagedNoise(
            components,
            search.noise.scales,
            search.noise.factors,
            search.strategy.stage_starts,
            self.preprocessing,
        )
        return schedule.start_images(), schedule

    def _brief_climb(self, images: np.ndarray, objective: Objective, steps: int) -> AscentResult:
        """A side climb (screen, extra revival): no snapshots, no convergence."""
        search = self.search
        return render(
            self.engine, images, objective, steps, search.epsilon, batch_size=search.batch_size
        )

    def _screen(
        self, targets: Targets, starts: np.ndarray, objective: Objective
    ) -> tuple[np.ndarray, np.ndarray]:
        """Replace starts at objective 0 (every start with ``revival.screen: every``) by their
        best screen candidate; count candidates."""
        restarts, revival = self.search.restarts, self.search.revival
        tried = np.zeros(targets.count, np.int64)
        values = self.engine.objective(starts, objective, self.search.batch_size)
        every = revival.screen == "every"
        screened = np.arange(len(starts)) if every else np.flatnonzero(values <= 0)
        if not screened.size or revival.candidates == 0:
            return starts, tried
        pairs = [(index // restarts, index % restarts) for index in screened]
        keys = targets.candidate_keys(self.seed, pairs, revival.candidates)
        images = self.start_noise(keys, revival.scales, revival.factors)
        if every:  # each start is the first contender of its group
            grouped = images.reshape(len(screened), revival.candidates, *images.shape[1:])
            images = np.concatenate([starts[screened, None], grouped], axis=1)
            images = images.reshape(-1, *grouped.shape[2:])
        count = len(images) // len(screened)
        screen_objective = objective.take(np.repeat(screened, count))
        climbed = self._brief_climb(images, screen_objective, revival.screen_steps)
        best = self._best_contenders(climbed.objective, climbed.images, screen_objective, count)
        chosen = climbed.images.reshape(-1, count, *images.shape[1:])[np.arange(len(best)), best]
        if every:  # a start that wins stays as it was
            chosen[best == 0] = starts[screened[best == 0]]
        starts = starts.copy()
        starts[screened] = chosen
        np.add.at(tried, screened // restarts, revival.candidates)
        log.info(
            "%s: %d of %d starts at zero; screened %d candidates",
            self.layer,
            int((values <= 0).sum()),
            len(starts),
            len(screened) * revival.candidates,
        )
        return starts, tried

    def _best_contenders(
        self, values: np.ndarray, images: np.ndarray, objective: Objective, count: int
    ) -> np.ndarray:
        """Per group of ``count`` contenders, the index of the one with the highest objective,
        or, all at 0, of the one closest to firing (highest revival score)."""
        closeness = self.engine.revival_score(images, objective, self.search.batch_size)
        rank = np.where(values > 0, values, -np.inf).reshape(-1, count)
        fallback = closeness.reshape(-1, count).argmax(axis=1)
        return np.where(np.isfinite(rank.max(axis=1)), rank.argmax(axis=1), fallback)

    def _revive_dead(
        self, images: np.ndarray, values: np.ndarray, objective: Objective
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Extra revival steps for targets whose every restart is still at 0: new images,
        their objectives, and the extra steps each target got."""
        restarts, extra_steps = self.search.restarts, self.search.revival.extra_steps
        dead = np.flatnonzero((values.reshape(-1, restarts) <= 0).all(axis=1))
        revival_steps = np.zeros(len(values) // restarts, np.int64)
        if not dead.size or extra_steps == 0:
            return images, values, revival_steps
        rows = (dead[:, None] * restarts + np.arange(restarts)).reshape(-1)
        extra = self._brief_climb(images[rows], objective.take(rows), extra_steps)
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

    def test_statistics(
        self, maps: np.ndarray, test_images: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per map: max and 99th percentile of its mean activation over the first
        ``search.test_images`` test images (NaN without test images)."""
        if test_images is not None and self.search.test_images is not None:
            test_images = test_images[: self.search.test_images]
        if test_images is None or not len(test_images):
            nan = np.full(len(maps), np.nan, np.float32)
            return nan, nan.copy()
        activations = self.evaluator.mean_activations(test_images, self.search.batch_size)[0]
        chosen = activations[:, maps]
        return chosen.max(axis=0), np.percentile(chosen, 99, axis=0).astype(np.float32)


def _result(
    targets: Targets,
    restarts: int,
    images: np.ndarray,
    values: np.ndarray,
    climb: AscentResult,
    candidates: np.ndarray,
    revival_steps: np.ndarray,
    test_max: np.ndarray,
    test_p99: np.ndarray,
) -> SearchResult:
    """The search's arrays regrouped per target (restarts on the second axis); images (H, W)
    for a grey model, (H, W, C) for a colour one."""
    shape = (targets.count, restarts)
    restart_objectives = values.reshape(shape)
    best = restart_objectives.argmax(axis=1)
    image_shape = images.shape[1:3] if images.shape[-1] == 1 else images.shape[1:]
    snapshots = climb.snapshots.reshape(len(climb.snapshot_steps), *shape, *image_shape)
    return SearchResult(
        layer=targets.layer,
        maps=targets.maps,
        nodes=np.full((targets.count, 2), -1) if targets.nodes is None else targets.nodes,
        restart_images=images.reshape(*shape, *image_shape).astype(np.float32),
        restart_objectives=restart_objectives.astype(np.float32),
        histories=climb.history.reshape(*shape, -1),
        snapshots=np.swapaxes(snapshots[:, np.arange(targets.count), best], 0, 1),
        snapshot_steps=np.asarray(climb.snapshot_steps, np.int64),
        converged_step=climb.converged_step.reshape(shape),
        candidates=candidates,
        revived=(climb.history[:, 0] <= 0).reshape(shape),
        revival_steps=revival_steps,
        test_max=test_max,
        test_p99=test_p99,
    )
