"""What every figure shares: the backend, atomic saving, and tiling maps into a grid."""

from __future__ import annotations

import math
import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import Colormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cnnlens.errors import CnnLensError  # noqa: E402
from cnnlens.files import atomic_path  # noqa: E402

DPI = 120


def save_figure(figure: Figure, path: str | os.PathLike) -> None:
    """Save ``figure`` atomically and release its memory."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=DPI, bbox_inches="tight")
    plt.close(figure)


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


def resolve_colormap(name: str, setting: str, bad: str | None = None) -> Colormap:
    """A copy of the Matplotlib colour map ``name`` (NaN cells drawn in ``bad``), or a one-line
    error naming the config key ``setting`` that chose it."""
    try:
        colormap = matplotlib.colormaps[name]
    except KeyError:
        raise CnnLensError(
            f"unknown colour map {name!r} in {setting}; use a Matplotlib colour map such as "
            "jet, viridis, magma or gray"
        ) from None
    return colormap.with_extremes(bad=bad) if bad is not None else colormap.copy()
