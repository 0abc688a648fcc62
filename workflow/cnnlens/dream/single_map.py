"""Single-map dreams: the photo at the CNN's view, climbed for each map, round after round.

The photo (grey for a grey model, colour for a colour one) is shrunk to the model's input
size; the detail lost by shrinking is kept. Each round climbs every map's objective on the
small image (kept in the model's input range), enlarges the result, puts the lost detail back
and shrinks it again. All maps are dreamed together, one batch image per map.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import keras
import numpy as np

from cnnlens.dream.display import adjust_range
from cnnlens.dream.engines import dream_engines
from cnnlens.dream.imaging import (
    as_batch,
    correlation_with,
    from_batch,
    from_display,
    require_channels,
    resize,
    view_shape,
    with_detail,
)
from cnnlens.dream.names import single_map_maps
from cnnlens.dream.results import SingleMapDreams
from cnnlens.errors import CnnLensError
from cnnlens.optvis import objectives
from cnnlens.optvis.param import Pixels
from cnnlens.optvis.render import render
from cnnlens.preprocessing import Preprocessing
from cnnlens.settings import SingleMap

log = logging.getLogger(__name__)


def single_map_dreams(
    model: keras.Model,
    photo: np.ndarray,
    single_map: SingleMap,
    extra_maps: Sequence[int] = (),
    preprocessing: Preprocessing | None = None,
    compute_dtype: str = "float32",
) -> SingleMapDreams:
    """Dream every map of ``single_map`` and ``extra_maps`` (the best OIPs) on ``photo``
    ((H, W) grey or (H, W, C) colour, in the model's input range), all maps in one batch, in
    ``compute_dtype``; ``preprocessing`` gives that range (None: per-image
    standardisation)."""
    maps = single_map_maps(single_map, extra_maps)
    if not maps:
        raise CnnLensError(
            f"no map to dream with: dream.single_map.maps is empty and no map of "
            f"{single_map.layer} has a live OIP; list maps in dream.single_map.maps"
        )
    colour = require_channels(photo, model)
    engine, measuring = dream_engines(
        model, [single_map.layer], Pixels(preprocessing), compute_dtype
    )
    objective = objectives.channels(single_map.layer, maps).revived()
    view = view_shape(model)
    shrunk = np.repeat(resize(photo[np.newaxis], view), len(maps), axis=0)
    before = measuring.objective(as_batch(shrunk, preprocessing), objective)
    rounds, small = [], shrunk
    for _ in range(single_map.rounds):
        result = render(
            engine, as_batch(small, preprocessing), objective, steps=single_map.steps,
            epsilon=single_map.epsilon,
        )
        rounds.append(result.objective)
        dreamed = from_batch(result.images, colour)
        enlarged = with_detail(dreamed, photo)  # full size, the lost detail put back
        small = resize(enlarged, view)  # what the next round starts from
    final = adjust_range(enlarged, colour)
    seen = as_batch(from_display(resize(final, view), preprocessing), preprocessing)
    warn_unmoved(single_map.layer, maps, rounds[-1])
    return SingleMapDreams(
        maps=maps,
        small=dreamed,
        blurred=resize(dreamed, photo.shape[:2]),
        final=final,
        objective_before=before,
        objective_rounds=np.stack(rounds, axis=1),
        objective_after=measuring.objective(seen, objective),
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
