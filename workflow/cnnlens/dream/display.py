"""A dream result made viewable: its value range stretched to 0..1, saved as a PNG (grey for
grey images, RGB for colour ones).

Numpy and Pillow only (the photo job uses it without TensorFlow).
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from cnnlens.files import atomic_path

#: Percentiles clipped when a result's value range is adjusted for display.
RANGE_PERCENTILES = (0.5, 99.5)


def adjust_range(images: np.ndarray, colour: bool = False) -> np.ndarray:
    """Each image of ``images`` stretched to 0..1 between its 0.5 and 99.5 percentiles
    (clipped beyond): grey images (..., H, W), or with ``colour`` (..., H, W, C) over all
    channels together (so the colours keep their balance)."""
    axes = (-3, -2, -1) if colour else (-2, -1)
    low, high = np.percentile(images, RANGE_PERCENTILES, axis=axes, keepdims=True)
    return np.clip((images - low) / np.maximum(high - low, 1e-12), 0.0, 1.0).astype(np.float32)


def save_png(image: np.ndarray, path: str | os.PathLike) -> None:
    """An image with values in 0..1, (H, W) grey or (H, W, 3) colour, as an 8-bit PNG,
    written atomically."""
    pixels = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    with atomic_path(path) as temporary:
        Image.fromarray(pixels).save(temporary, format="PNG")
