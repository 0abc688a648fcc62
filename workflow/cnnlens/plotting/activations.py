"""Figures of one selected test image: a layer's grid of maps, and the overview page.

Every grid is drawn by :func:`draw_grid`: the mosaic with square pixels (tiles keep their
aspect), thin lines between tiles whatever their size, and tick labels that name the map or
node of each tile (row label + column label; the class for the output layer).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.image import AxesImage

from cnnlens.activations.examples import Example
from cnnlens.activations.grids import LayerGrid
from cnnlens.plotting.figures import plt, resolve_colormap, save_figure

COLORMAP_SETTING = "activations.grid.colormap"
GAP_COLOUR = "white"
LINE_STYLE = {"colors": "white", "linewidths": 0.5}
TRUE_CLASS_COLOUR = "tab:red"
GRID_INCHES = 7.0  # the longer side of a single grid figure
OVERVIEW_WIDTH = 15.0
OVERVIEW_ROW_ASPECT = 4.0  # panels share a row of the overview while their widths fit this
OVERVIEW_MAX_ROW = 4.0  # inches: the tallest row of the overview


def mosaic_aspect(grid: LayerGrid) -> float:
    """Width over height of the grid's mosaic."""
    return grid.mosaic.shape[1] / grid.mosaic.shape[0]


def draw_grid(
    axis: Axes,
    grid: LayerGrid,
    colormap: str,
    limits: tuple[float, float] | None = None,
    setting: str = COLORMAP_SETTING,
) -> AxesImage:
    """Draw ``grid`` into ``axis``: tiles, separating lines, and map/node tick labels."""
    low, high = limits or grid.limits
    image = axis.imshow(
        grid.mosaic,
        cmap=resolve_colormap(colormap, setting, bad=GAP_COLOUR),
        vmin=low,
        vmax=high if high > low else low + 1e-9,
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
        axis.set_xticklabels([str(column) for column in range(grid.columns)], fontsize=7)
        axis.set_xlabel("class", fontsize=7)


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
    """Two lines for small panels: layer and shape, then the raw value range."""
    shape = "x".join(str(size) for size in grid.shape)
    low, high = grid.value_range
    return f"{grid.layer} {shape}\nactivation {low:.3g} to {high:.3g}"


def add_colorbar(
    figure, image: AxesImage, axes: Axes | Sequence[Axes], grid: LayerGrid
) -> None:
    """A colour bar beside the grid (below it for a wide strip such as the output layer)."""
    horizontal = mosaic_aspect(grid) > 4
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


def plot_layer_grid(
    grid: LayerGrid, example: Example, colormap: str, path: str | os.PathLike
) -> None:
    """One layer's grid for one image, titled with the layer, its shape and value range."""
    inches = GRID_INCHES / max(grid.mosaic.shape)
    figure, axis = plt.subplots(
        figsize=(grid.mosaic.shape[1] * inches + 1.6, grid.mosaic.shape[0] * inches + 1.2)
    )
    image = draw_grid(axis, grid, colormap)
    add_colorbar(figure, image, axis, grid)
    axis.set_title(f"{grid_title(grid)}\n{example.describe()}", fontsize=8)
    save_figure(figure, path)


def pack_rows(aspects: Sequence[float], limit: float = OVERVIEW_ROW_ASPECT) -> list[list[int]]:
    """Group panels (by width/height) into rows, in order, while a row's widths fit ``limit``."""
    rows: list[list[int]] = []
    width = limit + 1
    for index, aspect in enumerate(aspects):
        if width + aspect > limit:
            rows.append([])
            width = 0.0
        rows[-1].append(index)
        width += aspect
    return rows


def draw_input(axis: Axes, image: np.ndarray, example: Example) -> None:
    """The input digit in grey."""
    axis.imshow(image, cmap="gray", interpolation="nearest")
    axis.set_title(f"input, test image {example.index} (label {example.label})", fontsize=8)
    axis.set_xticks([])
    axis.set_yticks([])


def draw_probabilities(axis: Axes, example: Example) -> None:
    """The class probabilities as bars, the true class in red, the predicted class outlined."""
    classes = np.arange(len(example.probabilities))
    colours = [TRUE_CLASS_COLOUR if digit == example.label else "grey" for digit in classes]
    bars = axis.bar(classes, example.probabilities, color=colours)
    bars[example.predicted].set_edgecolor("black")
    bars[example.predicted].set_linewidth(1.5)
    axis.set(xticks=classes, ylim=(0, 1.05), xlabel="class", ylabel="probability")
    axis.set_title(
        f"predicted {example.predicted} (p = {example.confidence:.3f}); red: true class",
        fontsize=8,
    )
    axis.grid(axis="y", alpha=0.3)


def plot_overview(
    example: Example,
    image: np.ndarray,
    grids: Sequence[LayerGrid],
    colormap: str,
    path: str | os.PathLike,
) -> None:
    """One page per image: the digit, the class probabilities, and every layer's grid.

    Panels are packed into rows in layer order; grids share one colour bar when they share
    colour limits (standardised values), else each has its own.
    """
    aspects = [1.0, 2.5] + [mosaic_aspect(grid) for grid in grids]
    rows = pack_rows(aspects)
    heights = [
        min(OVERVIEW_WIDTH / sum(aspects[i] for i in row), OVERVIEW_MAX_ROW) + 0.7 for row in rows
    ]
    shared = len({grid.limits for grid in grids}) == 1
    if shared:
        heights.append(0.8)  # a last row for the shared colour bar
    figure = plt.figure(figsize=(OVERVIEW_WIDTH, sum(heights) + 0.8), layout="constrained")
    figure.suptitle(f"{example.describe()}\nchosen as: {'; '.join(example.reasons)}")
    subfigures = np.atleast_1d(figure.subfigures(len(heights), 1, height_ratios=heights))
    drawn: list[AxesImage] = []
    for subfigure, row in zip(subfigures, rows):
        axes = np.atleast_1d(
            subfigure.subplots(1, len(row), width_ratios=[aspects[i] for i in row])
        )
        for axis, panel in zip(axes, row):
            if panel == 0:
                draw_input(axis, image, example)
            elif panel == 1:
                draw_probabilities(axis, example)
            else:
                grid = grids[panel - 2]
                drawn.append(draw_grid(axis, grid, colormap))
                axis.set_title(short_title(grid), fontsize=8)
                if not shared:
                    add_colorbar(subfigure, drawn[-1], axis, grid)
    if shared and drawn:
        bar_figure = subfigures[-1]
        bar = bar_figure.colorbar(
            drawn[0], cax=bar_figure.add_axes((0.3, 0.6, 0.4, 0.25)), orientation="horizontal"
        )
        bar.set_label("per map: (x - mean) / std * 64 + 128 (dense layers: over the layer)")
    save_figure(figure, path)
