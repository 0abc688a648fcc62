"""Figures of the activations stage: a layer's grid of maps, the overview page of one image,
and the comparison of two classes.

Every grid is drawn by :func:`draw_grid`: the mosaic with square pixels (tiles keep their
aspect), thin lines between tiles whatever their size, and tick labels that name the map or
node of each tile (row label + column label).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

from cnnlens.activations import Comparison, Example, Grid, GridSettings, layer_grid
from cnnlens.plotting.figures import plt, resolve_colormap, save_figure

COLORMAP_SETTING = "activations.grid.colormap"
DIFFERENCE_SETTING = "activations.compare.difference_colormap"
GAP_COLOUR = "white"
LINE_STYLE = {"colors": "white", "linewidths": 0.5}
FIRST_COLOUR, SECOND_COLOUR = "tab:red", "tab:blue"
GRID_INCHES = 7.0  # the longer side of a single grid figure
OVERVIEW_WIDTH = 15.0
OVERVIEW_ROW_ASPECT = 4.0  # panels share a row of the overview while their widths fit this
OVERVIEW_MAX_ROW = 4.0  # inches: the tallest row of the overview


# --------------------------------------------------------------------------------------------
# Drawing one grid
# --------------------------------------------------------------------------------------------


def mosaic_aspect(grid: Grid) -> float:
    """Width over height of the grid's mosaic."""
    return grid.mosaic.shape[1] / grid.mosaic.shape[0]


def draw_grid(
    axis: Axes,
    grid: Grid,
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


def label_units(axis: Axes, grid: Grid) -> None:
    """Tick labels naming the tiles: a tile's map/node number is its row's plus its column's."""
    height, width = grid.tile_shape
    axis.set_xticks(np.arange(grid.columns) * width + (width - 1) / 2)
    axis.set_xticklabels([f"+{column}" for column in range(grid.columns)], fontsize=6)
    axis.set_yticks(np.arange(grid.rows) * height + (height - 1) / 2)
    axis.set_yticklabels([str(row * grid.columns) for row in range(grid.rows)], fontsize=6)
    axis.tick_params(length=0, pad=1)
    if grid.layer == "dense_1":
        axis.set_xticklabels([str(column) for column in range(grid.columns)], fontsize=7)
        axis.set_xlabel("class", fontsize=7)


def outline_tiles(axis: Axes, grid: Grid, units: Sequence[int], colour: str = "black") -> None:
    """Frame the tiles of ``units`` and number them, to point at them in a figure."""
    height, width = grid.tile_shape
    for unit in units:
        row, column = divmod(int(unit), grid.columns)
        corner = (column * width - 0.5, row * height - 0.5)
        axis.add_patch(
            Rectangle(corner, width, height, fill=False, edgecolor=colour, linewidth=1.4)
        )
        axis.text(
            corner[0] + 0.5, corner[1] + 0.5, str(unit), color=colour, fontsize=6, va="top",
            ha="left", bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
        )


def value_label(grid: Grid) -> str:
    """The colour bar's label: what the colours mean."""
    if grid.values == "raw":
        return "activation"
    scope = "per map" if grid.is_spatial else "over the layer"
    return f"(x - mean) / std * 64 + 128 {scope}"


def constant_note(grid: Grid, listed: int = 8) -> str:
    """``; flat maps: 1, 28`` (or their count when many), or nothing."""
    flat = grid.constant_units
    if flat.size == 0:
        return ""
    if flat.size > listed:
        return f"; {flat.size} flat maps"
    return "; flat maps: " + ", ".join(str(unit) for unit in flat)


def grid_title(grid: Grid) -> str:
    """``Conv2D_1  26x26x32  (32 maps)  activation 0 to 3.21, drawn standardised; flat ...``."""
    shape = "x".join(str(size) for size in grid.shape)
    low, high = grid.value_range
    return (
        f"{grid.layer}  {shape}  ({grid.count} {grid.unit_name}s)  "
        f"activation {low:.3g} to {high:.3g}, drawn {grid.values}{constant_note(grid)}"
    )


def short_title(grid: Grid) -> str:
    """Two lines for small panels: layer and shape, then the raw value range."""
    shape = "x".join(str(size) for size in grid.shape)
    low, high = grid.value_range
    return f"{grid.layer} {shape}\nactivation {low:.3g} to {high:.3g}"


def add_colorbar(figure, image: AxesImage, axes: Axes | Sequence[Axes], grid: Grid) -> None:
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


def plot_layer_grid(grid: Grid, example: Example, colormap: str, path: str | os.PathLike) -> None:
    """One layer's grid for one image, titled with the layer, its shape and value range."""
    inches = GRID_INCHES / max(grid.mosaic.shape)
    figure, axis = plt.subplots(
        figsize=(grid.mosaic.shape[1] * inches + 1.6, grid.mosaic.shape[0] * inches + 1.2)
    )
    image = draw_grid(axis, grid, colormap)
    add_colorbar(figure, image, axis, grid)
    axis.set_title(f"{grid_title(grid)}\n{example.describe()}", fontsize=8)
    save_figure(figure, path)


# --------------------------------------------------------------------------------------------
# The overview page of one image
# --------------------------------------------------------------------------------------------


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
    colours = [FIRST_COLOUR if digit == example.label else "grey" for digit in classes]
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
    grids: Sequence[Grid],
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


# --------------------------------------------------------------------------------------------
# Two classes compared
# --------------------------------------------------------------------------------------------


def comparison_grids(comparison: Comparison, settings: GridSettings) -> dict[str, Grid]:
    """Raw grids of both class means, their difference and the per-position effect size."""
    arrays = {
        f"mean activation, class {comparison.first}": comparison.mean_first,
        f"mean activation, class {comparison.second}": comparison.mean_second,
        f"difference {comparison.first} - {comparison.second}": comparison.difference,
        f"effect size (Cohen's d) per position, {comparison.first} vs {comparison.second}": (
            comparison.point_effect
        ),
    }
    return {
        title: layer_grid(comparison.layer, values, settings, values="raw")
        for title, values in arrays.items()
    }


def symmetric_limits(grid: Grid) -> tuple[float, float]:
    """Colour limits centred on zero, for differences."""
    largest = max(abs(grid.value_range[0]), abs(grid.value_range[1]), 1e-9)
    return -largest, largest


def draw_ranking(axis: Axes, comparison: Comparison, top: int) -> None:
    """Horizontal bars of the ``top`` maps/nodes by |Cohen's d|, with each one's AUC."""
    chosen = comparison.ranking()[:top]
    effects = comparison.map_effect[chosen]
    positions = np.arange(len(chosen))[::-1]
    colours = [FIRST_COLOUR if effect > 0 else SECOND_COLOUR for effect in effects]
    axis.barh(positions, effects, color=colours)
    axis.set_yticks(positions)
    axis.set_yticklabels([f"{comparison.unit_name} {unit}" for unit in chosen], fontsize=7)
    for position, unit, effect in zip(positions, chosen, effects):
        axis.text(
            effect, position, f" AUC {comparison.map_auc[unit]:.3f} ",
            va="center", ha="left" if effect > 0 else "right", fontsize=6,
        )
    axis.axvline(0, color="black", linewidth=0.8)
    limit = max(np.abs(effects).max(), 1e-9) * 1.45
    axis.set_xlim(-limit, limit)
    axis.set_xlabel(
        f"Cohen's d of the {comparison.unit_name}'s mean activation "
        f"(red: more active for {comparison.first}, blue: for {comparison.second})",
        fontsize=8,
    )
    axis.set_title(f"the {len(chosen)} best separating {comparison.unit_name}s", fontsize=9)
    axis.grid(axis="x", alpha=0.3)


def plot_comparison(
    comparison: Comparison,
    settings: GridSettings,
    difference_colormap: str,
    top: int,
    path: str | os.PathLike,
) -> None:
    """Class means, their difference and effect sizes as grids, and the ranking as bars."""
    grids = comparison_grids(comparison, settings)
    aspect = mosaic_aspect(next(iter(grids.values())))
    panel_height = min(5.2 / aspect, 6.0) + 0.8
    ranking_height = 0.25 * min(top, len(comparison.map_effect)) + 1.2
    figure = plt.figure(
        figsize=(13, 2 * panel_height + ranking_height + 0.8), layout="constrained"
    )
    layout = figure.add_gridspec(3, 2, height_ratios=[panel_height, panel_height, ranking_height])
    means = list(grids.values())[:2]
    shared = (min(g.value_range[0] for g in means), max(g.value_range[1] for g in means))
    for position, (title, grid) in enumerate(grids.items()):
        axis = figure.add_subplot(layout[position // 2, position % 2])
        diverging = position >= 2
        image = draw_grid(
            axis,
            grid,
            difference_colormap if diverging else settings.colormap,
            symmetric_limits(grid) if diverging else shared,
            DIFFERENCE_SETTING if diverging else COLORMAP_SETTING,
        )
        if diverging:
            outline_tiles(axis, grid, comparison.ranking()[:3])
        bar = figure.colorbar(image, ax=axis, shrink=0.8, fraction=0.05)
        bar.ax.tick_params(labelsize=6)
        axis.set_title(title, fontsize=9)
    draw_ranking(figure.add_subplot(layout[2, :]), comparison, top)
    figure.suptitle(
        f"{comparison.layer}: class {comparison.first} ({comparison.counts[0]} test images) "
        f"vs class {comparison.second} ({comparison.counts[1]}); framed: the 3 best separating "
        f"{comparison.unit_name}s"
    )
    save_figure(figure, path)


def plot_separation(
    comparisons: Sequence[Comparison], large_effect: float, path: str | os.PathLike
) -> None:
    """Per layer, |Cohen's d| of every map or node as dots: which layer separates the classes."""
    figure, axis = plt.subplots(figsize=(1.6 * len(comparisons) + 3, 5))
    for position, comparison in enumerate(comparisons):
        magnitude = np.sort(np.abs(comparison.map_effect))
        spread = np.linspace(-0.3, 0.3, len(magnitude)) if len(magnitude) > 1 else np.zeros(1)
        axis.scatter(position + spread, magnitude, s=8, alpha=0.7)
        best = comparison.ranking()[0]
        folded_auc = max(comparison.map_auc[best], 1 - comparison.map_auc[best])
        axis.annotate(
            f"{comparison.unit_name} {best}\nAUC {folded_auc:.3f}",
            (position + spread[-1], magnitude[-1]),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=7,
        )
    axis.axhline(large_effect, color="grey", linestyle="--", linewidth=1)
    axis.set_xticks(range(len(comparisons)))
    axis.set_xticklabels([comparison.layer for comparison in comparisons])
    first, second = comparisons[0].first, comparisons[0].second
    axis.set(
        ylabel="|Cohen's d| of a map's (node's) mean activation\n(linear below 1, log above)",
        title=f"How well each layer's maps and nodes separate {first} from {second} "
        f"(dashed: |d| = {large_effect})",
    )
    axis.set_yscale("symlog", linthresh=1.0)  # linear below 1, so the output layer fits
    axis.set_ylim(0, axis.get_ylim()[1] * 2)
    axis.grid(axis="y", alpha=0.3)
    save_figure(figure, path)
