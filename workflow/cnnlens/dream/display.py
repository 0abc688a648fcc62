"""A dream result made viewable: its value range stretched to 0..1, saved as a grey PNG.

Numpy and Pillow only (the photo job uses it without TensorFlow).
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from cnnlens.files import atomic_path

#: Percentiles clipped when a result's value range is adjusted for display.
RANGE_PERCENTILES = (0.5, 99.5)


def adjust_range(images: np.ndarray) -> np.ndarray:
    """Each image (H, W) of ``images`` (..., H, W) stretched to 0..1 between its 0.5 and 99.5
    percentiles (clipped beyond)."""
    low, high = np.percentile(images, RANGE_PERCENTILES, axis=(-2, -1), keepdims=True)
    return np.clip((images - low) / np.maximum(high - low, 1e-12), 0.0, 1.0).astype(np.float32)


def save_grey_png(image: np.ndarray, path: str | os.PathLike) -> None:
    """An image with values in 0..1 (H, W) as an 8-bit grey PNG, written atomically."""
    pixels = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    with atomic_path(path) as temporary:
        Image.fromarray(pixels).save(temporary, format="PNG")
