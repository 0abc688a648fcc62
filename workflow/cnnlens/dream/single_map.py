"""Single-map dreams: the photo at the CNN's view, climbed for each map, round after round.

The photo is shrunk to the model's input size; the detail lost by shrinking is kept. Each
round climbs every map's objective on the small image, enlarges the result, puts the lost
detail back and shrinks it again. All maps are dreamed together, one batch image per map.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import keras
import numpy as np

from cnnlens.dream.display import adjust_range
from cnnlens.dream.imaging import as_batch, correlation_with, resize, view_shape, with_detail
from cnnlens.dream.names import single_map_maps
from cnnlens.dream.results import SingleMapDreams
from cnnlens.errors import CnnLensError
from cnnlens.optvis import objectives
from cnnlens.optvis.engine import AscentEngine
from cnnlens.optvis.render import render
from cnnlens.settings import SingleMap

log = logging.getLogger(__name__)


def single_map_dreams(
    model: keras.Model,
    photo: np.ndarray,
    single_map: SingleMap,
    extra_maps: Sequence[int] = (),
) -> SingleMapDreams:
    """Dream every map of ``single_map`` and ``extra_maps`` (the best OIPs) on ``photo``
    (H, W), all maps in one batch."""
    maps = single_map_maps(single_map, extra_maps)
    if not maps:
        raise CnnLensError(
            f"no map to dream with: dream.single_map.maps is empty and no map of "
            f"{single_map.layer} has a live OIP; list maps in dream.single_map.maps"
        )
    engine = AscentEngine(model, [single_map.layer])
    objective = objectives.channels(single_map.layer, maps).revived()
    view = view_shape(model)
    shrunk = np.repeat(resize(photo[np.newaxis], view), len(maps), axis=0)
    before = engine.objective(as_batch(shrunk), objective)
    rounds, small = [], shrunk
    for _ in range(single_map.rounds):
        result = render(
            engine, as_batch(small), objective, steps=single_map.steps,
            epsilon=single_map.epsilon,
        )
        rounds.append(result.objective)
        dreamed = result.images[..., 0]
        enlarged = with_detail(dreamed, photo)  # full size, the lost detail put back
        small = resize(enlarged, view)  # what the next round starts from
    final = adjust_range(enlarged)
    warn_unmoved(single_map.layer, maps, rounds[-1])
    return SingleMapDreams(
        maps=maps,
        small=dreamed,
        blurred=resize(dreamed, photo.shape),
        final=final,
        objective_before=before,
        objective_rounds=np.stack(rounds, axis=1),
        objective_after=engine.objective(as_batch(resize(final, view)), objective),
        correlation=correlation_with(final, photo),
    )


def warn_unmoved(layer: str, maps: Sequence[int], objective: np.ndarray) -> None:
    """Log the maps whose objective is still 0 after the ascent (they do not react to the photo
    even after the pre-activation revival)."""
    silent = [index for index, value in zip(maps, objective) if value <= 0]
    if silent:
        log.warning(
            "%s maps %s stayed at zero activation on this photo (dead maps or too few steps)",
            layer, silent,
        )
