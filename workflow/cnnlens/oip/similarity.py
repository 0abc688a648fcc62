"""How alike the restarts' OIPs of a map are: does the OIP depend on the start noise?"""

from __future__ import annotations

from itertools import combinations

import numpy as np

#: Shifts (pixels) within which restarts' OIPs count as the same pattern moved elsewhere.
SIMILARITY_SHIFT = 4


def restart_similarity(images: np.ndarray, alive: np.ndarray, max_shift: int = 0) -> np.ndarray:
    """(T,) mean pairwise correlation of the restarts' images (T, R, H, W) or (T, R, H, W, C)
    (over all pixels and channels) that the map fires on (``alive`` (T, R)); NaN when fewer
    than two did. Near 1: the OIP does not depend on the start noise; near 0: different local
    maxima. With ``max_shift`` > 0 each pair counts with
    its best correlation over shifts of up to that many pixels (the same pattern elsewhere)."""
    pairs = list(combinations(range(images.shape[1]), 2))
    if not pairs:
        return np.full(len(images), np.nan)
    first, second = np.array(pairs).T
    if images.ndim == 4:
        images = images[..., np.newaxis]
    values = np.full((len(images), len(pairs)), -np.inf)
    shifts = range(-max_shift, max_shift + 1)
    for rows in shifts:
        for columns in shifts:
            moved = _overlap_correlation(images[:, first], images[:, second], rows, columns)
            values = np.maximum(values, moved)
    both = alive[:, first] & alive[:, second]
    counts = both.sum(axis=1)
    total = np.where(both, values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


def _overlap_correlation(a: np.ndarray, b: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """Pearson correlation of ``a`` shifted by (rows, columns) with ``b`` on their overlap;
    images (H, W, C) on the last three axes."""
    height, width = a.shape[-3:-1]
    a = a[..., max(rows, 0) : height + min(rows, 0), max(columns, 0) : width + min(columns, 0), :]
    b = b[
        ..., max(-rows, 0) : height + min(-rows, 0), max(-columns, 0) : width + min(-columns, 0), :
    ]
    a = a.reshape(*a.shape[:-3], -1).astype(np.float64)
    b = b.reshape(*b.shape[:-3], -1).astype(np.float64)
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return (a * b).sum(axis=-1) / np.maximum(norms, 1e-12)
