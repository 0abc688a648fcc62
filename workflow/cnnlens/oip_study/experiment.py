"""The study's searches on the trained model: every variant of the OIP search on one conv layer
(all maps and restarts of a variant in one batch, as the oip stage searches), and the "Hand of
MNIST" series (one map climbed from starts of one noise scale per series, all series in one
batch).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping

import keras
import numpy as np

from cnnlens import noise
from cnnlens.oip.results import SearchResult, layer_counts
from cnnlens.oip.search import LayerSearch, target_objective
from cnnlens.oip.steps import snapshot_steps
from cnnlens.oip.targets import Targets
from cnnlens.oip_study.records import HandSeries
from cnnlens.optvis.render import render
from cnnlens.preprocessing import Preprocessing
from cnnlens.settings import Hand, OipSearch

log = logging.getLogger(__name__)


@dataclasses.dataclass
class VariantRun:
    """What one variant of the search found on a layer."""

    name: str
    result: SearchResult
    zero_starts: np.ndarray  # (T, R) starts at objective exactly 0, before the screen
    seconds: float  # wall time of the search (start noise to the last revival step)


def layer_maps(model: keras.Model, layer: str) -> range:
    """Every map of conv layer ``layer``, read from the model."""
    return range(int(model.get_layer(layer).output.shape[-1]))


def run_variants(
    model: keras.Model,
    layer: str,
    searches: Mapping[str, OipSearch],
    seed: int,
    test_images: np.ndarray,
    preprocessing: Preprocessing | None = None,
) -> list[VariantRun]:
    """Every variant's search of all maps of ``layer``, in the variants' order; the maps'
    test statistics (on the first variant's ``test_images`` of them) are computed once."""
    targets = Targets(layer, layer_maps(model, layer))
    runs, test_max, test_p99 = [], None, None
    for name, search in searches.items():
        searcher = LayerSearch(model, layer, search, seed, preprocessing)
        if test_max is None:
            test_max, test_p99 = searcher.test_statistics(targets.maps, test_images)
        zero_starts = start_at_zero(searcher, targets)
        began = time.perf_counter()
        result = searcher.run(targets)
        seconds = time.perf_counter() - began
        result = dataclasses.replace(result, test_max=test_max, test_p99=test_p99)
        log.info("%s, variant %s: %s in %.1f s", layer, name, layer_counts(result), seconds)
        runs.append(VariantRun(name, result, zero_starts, seconds))
    return runs


def start_at_zero(searcher: LayerSearch, targets: Targets) -> np.ndarray:
    """(T, R): the starts of the search (before the precursor screen) at which the target's
    objective is exactly 0."""
    restarts = searcher.search.restarts
    objective = target_objective(targets, restarts)
    starts, _ = searcher.start_images(targets)  # the strategy's own, before the screen
    values = searcher.engine.objective(starts, objective, searcher.search.batch_size)
    return (values <= 0).reshape(targets.count, restarts)


def hand_keys(seed: int, layer: str, map_index: int, scale: int, seeds: int) -> list[list[int]]:
    """Noise keys of a series' starts: one per seed, apart from the search's own keys."""
    return [
        [*noise.image_key(seed, f"hand/{layer}", map_index, index), int(scale)]
        for index in range(seeds)
    ]


def run_hand(
    model: keras.Model,
    hand: Hand,
    search: OipSearch,
    seed: int,
    test_images: np.ndarray,
    preprocessing: Preprocessing | None = None,
) -> HandSeries:
    """Map ``hand.map`` of ``hand.layer`` climbed by the plain ascent of ``search`` (steps,
    epsilon, convergence, revival by pre-activation; no precursor screen, which would swap
    the starts for long-range ones) from ``hand.seeds`` starts of each of ``hand.scales``,
    all series in one batch."""
    layer, map_index, scales, seeds = hand.layer, hand.map, hand.scales, hand.seeds
    searcher = LayerSearch(model, layer, search, seed, preprocessing)
    starts = np.concatenate([
        searcher.start_noise(hand_keys(seed, layer, map_index, scale, seeds), [scale], [1.0])
        for scale in scales
    ])
    objective = target_objective(Targets(layer, [map_index]), len(starts))
    climb = render(
        searcher.engine,
        starts,
        objective,
        search.steps,
        search.epsilon,
        convergence=search.convergence,
        snapshot_steps=snapshot_steps(search),
        batch_size=search.batch_size,
    )
    values = searcher.evaluator.objective(climb.images, objective, search.batch_size)
    test_max, _ = searcher.test_statistics(np.array([map_index]), test_images)
    shape = (len(scales), seeds)
    return HandSeries(
        layer=layer,
        map=int(map_index),
        scales=np.asarray(scales, np.int64),
        snapshot_steps=np.asarray(climb.snapshot_steps, np.int64),
        snapshots=climb.snapshots.reshape(len(climb.snapshot_steps), *shape, *starts.shape[1:]),
        history=climb.history.reshape(*shape, -1),
        objective=values.reshape(shape).astype(np.float32),
        test_max=float(test_max[0]),
    )
