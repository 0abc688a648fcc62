"""Layer dreams (classic DeepDream): the weighted mean activation of whole layers, climbed on
octaves of the photo, smallest first, through the fully convolutional conv part.

Between octaves the dream is enlarged and the detail lost at that resolution put back; before
every step the image is rolled by a random offset (and rolled back after), so that no grid of
the conv part's stride and no border seam shows.
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
    octave_shapes,
    require_channels,
    resize,
    view_shape,
    with_detail,
)
from cnnlens.dream.names import nonzero_weights
from cnnlens.dream.results import OctaveDream
from cnnlens.errors import CnnLensError
from cnnlens.optvis import objectives
from cnnlens.optvis.param import Pixels
from cnnlens.optvis.render import render
from cnnlens.optvis.transforms import RandomRoll
from cnnlens.preprocessing import Preprocessing
from cnnlens.settings import LayerDream


def layer_mix(weights: dict[str, float]) -> objectives.Objective:
    """``weights[L] x`` the mean activation of all maps of layer L, summed over the layers."""
    return sum(weight * objectives.layer_mean(name) for name, weight in weights.items())


def layer_dream(
    model: keras.Model,
    photo: np.ndarray,
    layers: LayerDream,
    rng: np.random.Generator,
    preprocessing: Preprocessing | None = None,
    compute_dtype: str = "float32",
) -> OctaveDream:
    """Classic DeepDream of ``photo`` ((H, W) grey or (H, W, C) colour, in the model's input
    range of ``preprocessing``): the weighted layer mix, climbed octave by octave (none
    smaller than the model's input) in ``compute_dtype``, the random rolls drawn from
    ``rng``."""
    weights = nonzero_weights(layers.weights)
    if not weights:
        raise CnnLensError(
            "dream.layers.weights gives no layer a non-zero weight; weight at least one layer"
        )
    colour = require_channels(photo, model)
    engine, measuring = dream_engines(
        model, list(weights), Pixels(preprocessing), compute_dtype, any_size=True
    )
    objective = layer_mix(weights)
    shapes = octave_shapes(
        photo.shape[:2], layers.octaves, layers.octave_scale, view_shape(model)
    )
    dream = resize(photo[np.newaxis], shapes[0])
    octaves, histories = [], []
    for index, shape in enumerate(shapes):
        if index:
            dream = with_detail(dream, resize(photo[np.newaxis], shape)[0])
        result = render(
            engine, as_batch(dream, preprocessing), objective, steps=layers.steps,
            epsilon=layers.epsilon, transforms=[RandomRoll(layers.max_shift, rng)],
        )
        dream = from_batch(result.images, colour)
        octaves.append(dream[0])
        histories.append([float(result.history[0, 0]), float(result.history[0, -1])])
    final = adjust_range(dream, colour)
    before = measuring.objective(as_batch(photo[np.newaxis], preprocessing), objective)
    after = measuring.objective(
        as_batch(from_display(final, preprocessing), preprocessing), objective
    )
    return OctaveDream(
        octaves=octaves,
        final=final[0],
        objective_before=float(before[0]),
        objective_octaves=histories,
        objective_after=float(after[0]),
        correlation=float(correlation_with(final, photo)[0]),
    )
