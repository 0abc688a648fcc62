"""Drawing one layer's grid of tiles into an axis: the mosaic with square pixels (tiles keep
their aspect), thin lines between tiles whatever their size, tick labels that name the map or
node of each tile (row label + column label; the class name for the output layer), its titles and
its colour bar. The image figures and the class comparisons draw their grids with it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.image import AxesImage

from cnnlens.activations.grids import LayerGrid
from cnnlens.plotting.figures import resolve_colormap

COLORMAP_SETTING = "activations.grid.colormap"
GAP_COLOUR = "white"
LINE_STYLE = {"colors": "white", "linewidths": 0.5}
NAME_ROOM = 40  # characters a row of class names may take in all and stay horizontal


def mosaic_aspect(grid: LayerGrid) -> float:
    """Width over height of the grid's mosaic."""
    return grid.mosaic.shape[1] / grid.mosaic.shape[0]


def bar_below(grid: LayerGrid) -> bool:
    """True when the grid's colour bar goes below it: a wide strip such as the output layer."""
    return mosaic_aspect(grid) > 4


def colour_limits(limits: tuple[float, float]) -> tuple[float, float]:
    """The colour scale's (low, high) for a grid's limits; a flat grid gets a tiny span."""
    low, high = limits
    return low, high if high > low else low + 1e-9


def draw_grid(
    axis: Axes,
    grid: LayerGrid,
    colormap: str,
    limits: tuple[float, float] | None = None,
    setting: str = COLORMAP_SETTING,
) -> AxesImage:
    """Draw ``grid`` into ``axis``: tiles, separating lines, and map/node tick labels."""
    low, high = colour_limits(limits or grid.limits)
    image = axis.imshow(
        grid.mosaic,
        cmap=resolve_colormap(colormap, setting, bad=GAP_COLOUR),
        vmin=low,
        vmax=high,
        interpolation="nearest",
        aspect="equal",
    )
    height, width = grid.tile_shape
    axis.vlines(
        np.arange(1, grid.columns) * width - 0.5, -0.5, grid.mosaic.shape[0] - 0.5, **LINE_STYLE
    )
    axis.hlines(
        np.arange(1, grid.rows) * height - 0.5, -0.5, grid.mosaic.shape[1] - 0.5, **LINE_STYLE
    )
    label_units(axis, grid)
    return image


def label_units(axis: Axes, grid: LayerGrid) -> None:
    """Tick labels naming the tiles: a tile's map/node number is its row's plus its column's."""
    height, width = grid.tile_shape
    axis.set_xticks(np.arange(grid.columns) * width + (width - 1) / 2)
    axis.set_xticklabels([f"+{column}" for column in range(grid.columns)], fontsize=6)
    axis.set_yticks(np.arange(grid.rows) * height + (height - 1) / 2)
    axis.set_yticklabels([str(row * grid.columns) for row in range(grid.rows)], fontsize=6)
    axis.tick_params(length=0, pad=1)
    if grid.classes:
        axis.set_xlabel("class", fontsize=7)
    if grid.classes and grid.rows == 1:  # one tile per class in a row: each named
        names = grid.class_names or [str(column) for column in range(grid.columns)]
        axis.set_xticklabels(names, fontsize=7, rotation=name_rotation(names))


def name_rotation(names: Sequence[str]) -> int:
    """0 (horizontal) for a row of class names that fits, 90 (vertical) for long ones."""
    return 0 if len(names) * max(len(name) for name in names) <= NAME_ROOM else 90


def value_label(grid: LayerGrid) -> str:
    """The colour bar's label: what the colours mean."""
    if grid.values == "raw":
        return "activation"
    scope = "per map" if grid.is_spatial else "over the layer"
    return f"(x - mean) / std * 64 + 128 {scope}"


def constant_note(grid: LayerGrid, listed: int = 8) -> str:
    """``; flat maps: 1, 28`` (or their count when many), or nothing."""
    flat = grid.constant_units
    if flat.size == 0:
        return ""
    if flat.size > listed:
        return f"; {flat.size} flat maps"
    return "; flat maps: " + ", ".join(str(unit) for unit in flat)


def grid_title(grid: LayerGrid) -> str:
    """``Conv2D_1  26x26x32  (32 maps)  activation 0 to 3.21, drawn standardised; flat ...``."""
    shape = "x".join(str(size) for size in grid.shape)
    low, high = grid.value_range
    return (
        f"{grid.layer}  {shape}  ({grid.count} {grid.unit_name}s)  "
        f"activation {low:.3g} to {high:.3g}, drawn {grid.values}{constant_note(grid)}"
    )


def short_title(grid: LayerGrid) -> str:
    """Two lines for small panels: layer and shape, then the raw value range and how many
    maps are flat (``Conv2D_3 3x3x128`` / ``activation 0 to 5.2, 4 flat maps``)."""
    shape = "x".join(str(size) for size in grid.shape)
    low, high = grid.value_range
    flat = grid.constant_units.size
    note = f", {flat} flat {grid.unit_name}{'s' if flat > 1 else ''}" if flat else ""
    return f"{grid.layer} {shape}\nactivation {low:.3g} to {high:.3g}{note}"


def add_colorbar(
    figure, image: AxesImage, axes: Axes | Sequence[Axes], grid: LayerGrid
) -> Axes:
    """A colour bar beside the grid (below it for a wide strip such as the output layer);
    returns its axes."""
    horizontal = bar_below(grid)
    bar = figure.colorbar(
        image,
        ax=axes,
        orientation="horizontal" if horizontal else "vertical",
        fraction=0.05,
        pad=0.25 if horizontal else 0.03,
        shrink=0.5 if horizontal else 0.8,
    )
    bar.set_label(value_label(grid), fontsize=7)
    bar.ax.tick_params(labelsize=6)
    return bar.ax


def grid_artists(axis: Axes) -> list:
    """What a page redrawn for another image draws again of a grid drawn by :func:`draw_grid`:
    the mosaic, the lines and the frame over it, and the title."""
    return [*axis.images, *axis.collections, *axis.spines.values(), axis.title]
