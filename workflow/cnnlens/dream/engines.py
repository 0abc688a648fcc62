"""The engines of a dream: one that climbs, in the configured precision (``dream.
compute_dtype``), and one that measures the objective before and after, in float32 (as the
OIP summaries are measured), so that a dream's metrics do not depend on the precision."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from cnnlens.optvis.engine import AscentEngine, climbing_and_measuring
from cnnlens.optvis.param import Pixels
from cnnlens.optvis.preactivation import resolve_compute_dtype


def dream_engines(
    model: keras.Model,
    layers: Sequence[str],
    pixels: Pixels,
    compute_dtype: str = "float32",
    any_size: bool = False,
) -> tuple[AscentEngine, AscentEngine]:
    """(climbing engine, measuring engine) for ``layers``; ``compute_dtype`` as in the config
    ("auto" resolved here); ``any_size``: images of any size through the conv part."""
    input_shape = (None, None, model.input_shape[-1]) if any_size else None
    return climbing_and_measuring(
        model, list(layers), pixels, pixels.preprocessing, resolve_compute_dtype(compute_dtype),
        input_shape,
    )
