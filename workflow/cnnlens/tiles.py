"""Tiling maps into a grid: how many rows, per-tile standardisation, the mosaic array, and
histogram equalisation of an image.

Pure numpy, shared by the core (activation grids, the atlas) and the figures (OIP sheets, dream
rows).
"""

from __future__ import annotations

import math

import numpy as np


def grid_shape(tiles: int, columns: int = 8) -> tuple[int, int]:
    """Rows and columns of a grid holding ``tiles`` tiles, ``columns`` per row (none dropped)."""
    columns = max(1, min(columns, tiles))
    return math.ceil(tiles / columns), columns


def standardise_tiles(tiles: np.ndarray) -> np.ndarray:
    """Each tile (first axis) as (x - mean) / std * 64 + 128, clipped to 0..255."""
    values = np.asarray(tiles, dtype=np.float64)
    axes = tuple(range(1, values.ndim))
    mean = values.mean(axis=axes, keepdims=True)
    std = values.std(axis=axes, keepdims=True)
    scaled = (values - mean) / np.where(std > 0, std, 1.0) * 64 + 128
    return np.clip(scaled, 0, 255)


def tile_mosaic(tiles: np.ndarray, columns: int = 8, gap: int = 1) -> np.ndarray:
    """Arrange tiles (N, H, W) into one 2-D mosaic, ``gap`` NaN pixels between them.

    NaN cells draw as the colour map's "bad" colour, which gives the thin grid lines; empty
    cells after the last tile are NaN too, so no tile is ever dropped or invented.
    """
    count, height, width = tiles.shape
    rows, columns = grid_shape(count, columns)
    cells = np.full((rows * columns, height + gap, width + gap), np.nan, dtype=np.float64)
    cells[:count, :height, :width] = tiles
    mosaic = cells.reshape(rows, columns, height + gap, width + gap).transpose(0, 2, 1, 3)
    mosaic = mosaic.reshape(rows * (height + gap), columns * (width + gap))
    mosaic = mosaic[: mosaic.shape[0] - gap, : mosaic.shape[1] - gap]
    return mosaic


def equalise(image: np.ndarray) -> np.ndarray:
    """Histogram equalisation: every pixel replaced by its rank, scaled to 0..1."""
    flat = np.asarray(image, np.float64).reshape(-1)
    ranks = np.empty(flat.size)
    ranks[np.argsort(flat, kind="stable")] = np.arange(flat.size)
    return (ranks / max(flat.size - 1, 1)).reshape(np.shape(image))
