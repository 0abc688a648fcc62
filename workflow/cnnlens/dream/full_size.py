"""Full-size dreams (finer length scales): the whole photo climbed at once through the fully
convolutional conv part, whose units see windows of the CNN's view, so that patterns appear at
many places at the scale of the digits.

Before every step the image is rolled by a random offset (and rolled back after), so that no
fixed grid of the conv part's stride and no border seam shows. One batch image per render:
the layer mix first (when some weight is not 0), then each map.
"""

from __future__ import annotations

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
)
from cnnlens.dream.names import fine_render_names, nonzero_weights, unique_maps
from cnnlens.dream.octaves import layer_mix
from cnnlens.dream.results import FineDreams
from cnnlens.errors import CnnLensError
from cnnlens.optvis import objectives
from cnnlens.optvis.param import Pixels
from cnnlens.optvis.render import render
from cnnlens.optvis.transforms import RandomRoll
from cnnlens.preprocessing import Preprocessing
from cnnlens.settings import FineDream


def batch_objective(fine: FineDream, layer: str) -> objectives.Objective:
    """One batch row per render: the layer mix (if any weight is not 0), then each map of
    ``layer`` (revived when stuck at 0)."""
    weights = nonzero_weights(fine.weights)
    maps = unique_maps(fine.maps)
    if not weights and not maps:
        raise CnnLensError(
            "dream.fine has nothing to dream: give a layer a non-zero weight or list maps"
        )
    parts = [layer_mix(weights)] if weights else []
    if maps:
        parts.append(objectives.channels(layer, maps).revived())
    return objectives.stack(parts)


def fine_dreams(
    model: keras.Model,
    photo: np.ndarray,
    fine: FineDream,
    layer: str,
    rng: np.random.Generator,
    preprocessing: Preprocessing | None = None,
    compute_dtype: str = "float32",
) -> FineDreams:
    """Dream every render of ``fine`` on the full-size ``photo`` ((H, W) grey or (H, W, C)
    colour, in the model's input range of ``preprocessing``), in one batch through the fully
    convolutional conv part, in ``compute_dtype``; the maps are maps of ``layer``, the random
    rolls drawn from ``rng``."""
    colour = require_channels(photo, model)
    objective = batch_objective(fine, layer)
    targets = sorted({*nonzero_weights(fine.weights), *([layer] if fine.maps else [])})
    engine, measuring = dream_engines(
        model, targets, Pixels(preprocessing), compute_dtype, any_size=True
    )
    start = np.repeat(as_batch(photo[np.newaxis], preprocessing), objective.batch, axis=0)
    result = render(
        engine, start, objective, steps=fine.steps, epsilon=fine.epsilon,
        transforms=[RandomRoll(fine.max_shift, rng)],
    )
    final = adjust_range(from_batch(result.images, colour), colour)
    return FineDreams(
        names=fine_render_names(fine),
        final=final,
        objective_before=measuring.objective(start, objective),
        objective_after=measuring.objective(
            as_batch(from_display(final, preprocessing), preprocessing), objective
        ),
        history=result.history,
        correlation=correlation_with(final, photo),
    )
