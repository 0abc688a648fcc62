"""Image arithmetic of the attribution methods, NumPy only: the baselines, the Grad-CAM map
brought to the input's pixels through the receptive fields, and pixel orders.

Images are float32 NHWC. The *black* baseline is the input domain's minimum: each image's own
minimum for standardised inputs (MNIST's background), the preprocessing's lower bound for
bounded ones. The *blurred* baseline is the image under a Gaussian blur
(:func:`cnnlens.blur.gaussian_blur`).
"""

from __future__ import annotations

import numpy as np

from cnnlens.network import Layer
from cnnlens.preprocessing import Preprocessing


def black_baseline(images: np.ndarray, preprocessing: Preprocessing) -> np.ndarray:
    """For each image, the constant image at the input domain's minimum."""
    values = np.asarray(images, dtype=np.float32)
    if preprocessing.bounded:
        return np.full_like(values, np.float32(preprocessing.low))
    minimum = values.min(axis=(1, 2, 3), keepdims=True)
    return np.broadcast_to(minimum, values.shape).astype(np.float32)


def unit_centres(layer: Layer, units: int, size: int) -> np.ndarray:
    """Input coordinates (rows or columns, of ``size``) of the centres of a spatial layer's
    units' receptive fields (spread evenly when the layer has none recorded)."""
    if layer.receptive_field is None:
        return (np.arange(units) + 0.5) * size / units - 0.5
    return layer.offset + np.arange(units) * layer.stride + (layer.receptive_field - 1) / 2


def interpolation_matrix(centres: np.ndarray, size: int) -> np.ndarray:
    """(size, units): linear interpolation from values at ``centres`` to every input pixel
    (constant beyond the first and last centre)."""
    pixels = np.arange(size, dtype=np.float64)
    identity = np.eye(len(centres))
    if len(centres) == 1:
        return np.ones((size, 1))
    return np.stack([np.interp(pixels, centres, identity[unit]) for unit in range(len(centres))], 1)


def to_input_pixels(values: np.ndarray, layer: Layer, input_shape: tuple[int, ...]) -> np.ndarray:
    """Per-unit values (N, h, w) of spatial layer ``layer`` as (N, H, W) on the input: each
    unit's value placed at its receptive field's centre, linearly interpolated between."""
    height, width = int(input_shape[0]), int(input_shape[1])
    rows = interpolation_matrix(unit_centres(layer, values.shape[1], height), height)
    columns = interpolation_matrix(unit_centres(layer, values.shape[2], width), width)
    return np.einsum("yi,nij,xj->nyx", rows, values, columns).astype(np.float32)


def pixel_ranks(relevance: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N, H*W): each pixel's place when the pixels of its image are ordered by relevance,
    largest first (0 = the most relevant); equal relevance in random order."""
    flat = np.asarray(relevance, dtype=np.float64).reshape(len(relevance), -1)
    tie_breaker = rng.random(flat.shape)
    order = np.lexsort((tie_breaker, -flat), axis=-1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(flat.shape[1])[None].repeat(len(flat), 0), -1)
    return ranks


def random_ranks(images: int, pixels: int, rng: np.random.Generator) -> np.ndarray:
    """(N, pixels): a random order of each image's pixels (random deletion)."""
    return rng.random((images, pixels)).argsort(axis=1).argsort(axis=1)
