"""The Gaussian blur of a batch of images, NumPy only: the attribution's blurred baseline and
the OIP search's blur between steps (``oip.regularisers.blur_every``)."""

from __future__ import annotations

import numpy as np


def gaussian_matrix(size: int, sigma: float) -> np.ndarray:
    """(size, size): row i averages the pixels around i with Gaussian weights (the weights of
    pixels inside the image summing to 1, so borders are not darkened)."""
    positions = np.arange(size, dtype=np.float64)
    if sigma <= 0:
        return np.eye(size)
    weights = np.exp(-0.5 * ((positions[:, None] - positions[None, :]) / sigma) ** 2)
    return weights / weights.sum(axis=1, keepdims=True)


def gaussian_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """(N, H, W, C) images blurred with a Gaussian of ``sigma`` pixels over H and W, each
    channel on its own; float32."""
    values = np.asarray(images, dtype=np.float64)
    rows = gaussian_matrix(values.shape[1], sigma)
    columns = gaussian_matrix(values.shape[2], sigma)
    return np.einsum("yi,nijc,xj->nyxc", rows, values, columns).astype(np.float32)
