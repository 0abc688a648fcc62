"""Image arithmetic of the dreams: resampling, the detail that shrinking loses, octave sizes,
standardised batches for the engine, and how much of the photo a result keeps."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from cnnlens.data import standardise_images


def view_shape(model: keras.Model) -> tuple[int, int]:
    """(height, width) of the model's input: the size at which the CNN sees an image."""
    height, width = model.input_shape[1:3]
    return int(height), int(width)


def resize(images: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Bicubic (antialiased when shrinking) resize of grey images (N, H, W) to (N, *shape)."""
    images = np.asarray(images, np.float32)
    if images.shape[1:] == tuple(shape):
        return images.copy()
    resized = tf.image.resize(
        images[..., np.newaxis], tuple(shape), method="bicubic", antialias=True
    )
    return resized.numpy()[..., 0]


def lost_detail(original: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """What shrinking ``original`` (H, W) to ``shape`` and enlarging it back loses."""
    small = resize(original[np.newaxis], shape)
    return original - resize(small, original.shape)[0]


def with_detail(dreams: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Small dreams (N, h, w) enlarged to ``original``'s size (H, W), with the detail that
    shrinking the original to (h, w) lost put back."""
    return resize(dreams, original.shape) + lost_detail(original, dreams.shape[1:])


def octave_shapes(
    shape: Sequence[int], octaves: int, scale: float, smallest: Sequence[int]
) -> list[tuple[int, int]]:
    """Sizes of the octaves, smallest first, the last one ``shape``; each ``scale`` times the
    previous one, no side below ``smallest`` (the CNN's view; repeated sizes dropped)."""
    shapes: list[tuple[int, int]] = []
    for level in reversed(range(octaves)):
        size = tuple(
            max(least, round(side / scale**level)) for side, least in zip(shape, smallest)
        )
        if not shapes or shapes[-1] != size:
            shapes.append(size)
    return shapes


def as_batch(images: np.ndarray) -> np.ndarray:
    """Grey images (N, H, W) standardised, as the engine's (N, H, W, 1) input."""
    return standardise_images(images)[..., np.newaxis]


def correlation_with(images: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Pearson correlation of each image (N, H, W) with ``reference`` (H, W)."""
    centred = images - images.mean(axis=(1, 2), keepdims=True)
    target = reference - reference.mean()
    numerator = (centred * target).sum(axis=(1, 2))
    denominator = np.sqrt((centred**2).sum(axis=(1, 2)) * (target**2).sum())
    return (numerator / np.maximum(denominator, 1e-12)).astype(np.float64)
