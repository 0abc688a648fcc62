"""Image arithmetic of the dreams: resampling, the detail that shrinking loses, octave sizes,
batches for the engine in the model's input range, and how much of the photo a result keeps.

A grey image is (H, W) and a batch of them (N, H, W); a colour image is (H, W, C) and a batch
(N, H, W, C). The engine takes (N, H, W, C) batches in the model's input range
(:func:`as_batch`).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from cnnlens.errors import CnnLensError
from cnnlens.preprocessing import Preprocessing, into_input_range


def view_shape(model: keras.Model) -> tuple[int, int]:
    """(height, width) of the model's input: the size at which the CNN sees an image."""
    height, width = model.input_shape[1:3]
    return int(height), int(width)


def require_channels(photo: np.ndarray, model: keras.Model) -> bool:
    """True for a colour photo; raise unless the photo (H, W) or (H, W, C) has the model's
    channels (grey photos for a grey model, colour ones for a colour model)."""
    channels = 1 if photo.ndim == 2 else photo.shape[-1]
    wanted = int(model.input_shape[-1])
    if channels != wanted:
        raise CnnLensError(
            f"the photo has {channels} channel(s) but the model takes {wanted}; rerun "
            "dream_photo (results/dreams/*/photo.npy) for this model"
        )
    return photo.ndim == 3


def resize(images: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Bicubic (antialiased when shrinking) resize of grey (N, H, W) or colour (N, H, W, C)
    images to ``shape`` (height, width)."""
    images = np.asarray(images, np.float32)
    shape = tuple(int(side) for side in shape)
    if images.shape[1:3] == shape:
        return images.copy()
    grey = images.ndim == 3
    batch = images[..., np.newaxis] if grey else images
    resized = tf.image.resize(batch, shape, method="bicubic", antialias=True).numpy()
    return resized[..., 0] if grey else resized


def lost_detail(original: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """What shrinking ``original`` (H, W[, C]) to ``shape`` and enlarging it back loses."""
    small = resize(original[np.newaxis], shape)
    return original - resize(small, original.shape[:2])[0]


def with_detail(dreams: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Small dreams (N, h, w[, C]) enlarged to ``original``'s size (H, W[, C]), with the
    detail that shrinking the original to (h, w) lost put back."""
    return resize(dreams, original.shape[:2]) + lost_detail(original, dreams.shape[1:3])


def octave_shapes(
    shape: Sequence[int], octaves: int, scale: float, smallest: Sequence[int]
) -> list[tuple[int, int]]:
    """Sizes of the octaves, smallest first, the last one ``shape`` (height, width); each
    ``scale`` times the previous one, no side below ``smallest`` (the model's input size;
    repeated sizes dropped)."""
    shapes: list[tuple[int, int]] = []
    for level in reversed(range(octaves)):
        size = tuple(
            max(least, round(side / scale**level)) for side, least in zip(shape, smallest)
        )
        if not shapes or shapes[-1] != size:
            shapes.append(size)
    return shapes


def as_batch(images: np.ndarray, preprocessing: Preprocessing | None = None) -> np.ndarray:
    """Images (N, H, W) or (N, H, W, C) as the engine's (N, H, W, C) input in the model's
    input range: standardised per image (``preprocessing`` None or ``standardise``), or
    clipped to [low, high]."""
    ranged = into_input_range(images, preprocessing)
    return ranged[..., np.newaxis] if images.ndim == 3 else ranged


def from_batch(images: np.ndarray, colour: bool) -> np.ndarray:
    """The engine's (N, H, W, C) images as grey (N, H, W) or colour (N, H, W, C) images."""
    return images if colour else images[..., 0]


def from_display(images: np.ndarray, preprocessing: Preprocessing | None = None) -> np.ndarray:
    """Range-adjusted results (values 0..1) as the model sees them: unchanged for per-image
    standardisation (:func:`as_batch` standardises them), mapped onto [low, high] for a
    bounded input range."""
    if preprocessing is None or not preprocessing.bounded:
        return images
    span = preprocessing.high - preprocessing.low
    return (preprocessing.low + images * span).astype(np.float32)


def correlation_with(images: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Pearson correlation of each image (N, H, W[, C]) with ``reference`` (H, W[, C]), over
    all pixels and channels."""
    axes = tuple(range(1, images.ndim))
    centred = images - images.mean(axis=axes, keepdims=True)
    target = reference - reference.mean()
    numerator = (centred * target).sum(axis=axes)
    denominator = np.sqrt((centred**2).sum(axis=axes) * (target**2).sum())
    return (numerator / np.maximum(denominator, 1e-12)).astype(np.float64)
