"""Figures of two classes compared: per layer the class means, their difference and effect
sizes as grids with the ranking of maps or nodes, and the separation of every layer. The
classes are named by their class names (their numbers without names)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from cnnlens.activations.comparison import Comparison
from cnnlens.activations.examples import class_name
from cnnlens.activations.grids import LayerGrid, layer_grid
from cnnlens.plotting.figures import plt, save_figure
from cnnlens.plotting.layer_grids import COLORMAP_SETTING, draw_grid, mosaic_aspect
from cnnlens.settings import Compare, GridLayout

DIFFERENCE_SETTING = "activations.compare.difference_colormap"
FIRST_COLOUR, SECOND_COLOUR = "tab:red", "tab:blue"


def outline_tiles(
    axis: Axes, grid: LayerGrid, units: Sequence[int], colour: str = "black"
) -> None:
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


def pair_names(comparison: Comparison, class_names: Sequence[str]) -> tuple[str, str]:
    """The names of the two compared classes."""
    return class_name(class_names, comparison.first), class_name(class_names, comparison.second)


def comparison_grids(
    comparison: Comparison, layout: GridLayout, class_names: Sequence[str] = ()
) -> dict[str, LayerGrid]:
    """Raw grids of both class means, their difference and the per-position effect size."""
    first, second = pair_names(comparison, class_names)
    arrays = {
        f"mean activation, class {first}": comparison.mean_first,
        f"mean activation, class {second}": comparison.mean_second,
        f"difference {first} - {second}": comparison.difference,
        f"effect size (Cohen's d) per position, {first} vs {second}": comparison.point_effect,
    }
    return {
        title: layer_grid(
            comparison.layer, values, layout, "raw", classes=comparison.classes,
            class_names=class_names,
        )
        for title, values in arrays.items()
    }


def symmetric_limits(grid: LayerGrid) -> tuple[float, float]:
    """Colour limits centred on zero, for differences."""
    largest = max(abs(grid.value_range[0]), abs(grid.value_range[1]), 1e-9)
    return -largest, largest


def draw_ranking(
    axis: Axes, comparison: Comparison, top: int, class_names: Sequence[str] = ()
) -> None:
    """Horizontal bars of the ``top`` maps/nodes by |Cohen's d|, with each one's AUC (the
    output layer's nodes named by their class)."""
    chosen = comparison.ranking()[:top]
    effects = comparison.map_effect[chosen]
    positions = np.arange(len(chosen))[::-1]
    colours = [FIRST_COLOUR if effect > 0 else SECOND_COLOUR for effect in effects]
    axis.barh(positions, effects, color=colours)
    axis.set_yticks(positions)
    axis.set_yticklabels([unit_label(comparison, unit, class_names) for unit in chosen],
                         fontsize=7)
    for position, unit, effect in zip(positions, chosen, effects):
        axis.text(
            effect, position, f" AUC {comparison.map_auc[unit]:.3f} ",
            va="center", ha="left" if effect > 0 else "right", fontsize=6,
        )
    axis.axvline(0, color="black", linewidth=0.8)
    limit = max(np.abs(effects).max(), 1e-9) * 1.45
    axis.set_xlim(-limit, limit)
    first, second = pair_names(comparison, class_names)
    axis.set_xlabel(
        f"Cohen's d of the {comparison.unit_name}'s mean activation "
        f"(red: more active for {first}, blue: for {second})",
        fontsize=8,
    )
    axis.set_title(f"the {len(chosen)} best separating {comparison.unit_name}s", fontsize=9)
    axis.grid(axis="x", alpha=0.3)


def unit_label(comparison: Comparison, unit: int, class_names: Sequence[str]) -> str:
    """``map 5``, ``node 44``; an output node by its class when the class has a name other
    than its number (``node 4 (Coat)``)."""
    label = f"{comparison.unit_name} {unit}"
    name = class_name(class_names, unit) if comparison.classes else str(unit)
    return label if name == str(unit) else f"{label} ({name})"


def plot_comparison(
    comparison: Comparison,
    layout: GridLayout,
    compare: Compare,
    path: str | os.PathLike,
    class_names: Sequence[str] = (),
) -> None:
    """Class means, their difference and effect sizes as grids, and the ranking as bars."""
    grids = comparison_grids(comparison, layout, class_names)
    aspect = mosaic_aspect(next(iter(grids.values())))
    panel_height = min(5.2 / aspect, 6.0) + 0.8
    ranking_height = 0.25 * min(compare.top, len(comparison.map_effect)) + 1.2
    figure = plt.figure(
        figsize=(13, 2 * panel_height + ranking_height + 0.8), layout="constrained"
    )
    panels = figure.add_gridspec(3, 2, height_ratios=[panel_height, panel_height, ranking_height])
    means = list(grids.values())[:2]
    shared = (min(g.value_range[0] for g in means), max(g.value_range[1] for g in means))
    for position, (title, grid) in enumerate(grids.items()):
        axis = figure.add_subplot(panels[position // 2, position % 2])
        diverging = position >= 2
        image = draw_grid(
            axis,
            grid,
            compare.difference_colormap if diverging else layout.colormap,
            symmetric_limits(grid) if diverging else shared,
            DIFFERENCE_SETTING if diverging else COLORMAP_SETTING,
        )
        if diverging:
            outline_tiles(axis, grid, comparison.ranking()[:3])
        bar = figure.colorbar(image, ax=axis, shrink=0.8, fraction=0.05)
        bar.ax.tick_params(labelsize=6)
        axis.set_title(title, fontsize=9)
    draw_ranking(figure.add_subplot(panels[2, :]), comparison, compare.top, class_names)
    first, second = pair_names(comparison, class_names)
    figure.suptitle(
        f"{comparison.layer}: class {first} ({comparison.counts[0]} test images) "
        f"vs class {second} ({comparison.counts[1]}); framed: the 3 best separating "
        f"{comparison.unit_name}s"
    )
    save_figure(figure, path)


def plot_separation(
    comparisons: Sequence[Comparison],
    large_effect: float,
    path: str | os.PathLike,
    class_names: Sequence[str] = (),
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
            f"{unit_label(comparison, best, class_names)}\nAUC {folded_auc:.3f}",
            (position + spread[-1], magnitude[-1]),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=7,
        )
    axis.axhline(large_effect, color="grey", linestyle="--", linewidth=1)
    axis.set_xticks(range(len(comparisons)))
    axis.set_xticklabels([comparison.layer for comparison in comparisons])
    first, second = pair_names(comparisons[0], class_names)
    axis.set(
        ylabel="|Cohen's d| of a map's (node's) mean activation\n(linear below 1, log above)",
        title=f"How well each layer's maps and nodes separate {first} from {second} "
        f"(dashed: |d| = {large_effect})",
    )
    axis.set_yscale("symlog", linthresh=1.0)  # linear below 1, so the output layer fits
    axis.set_ylim(0, axis.get_ylim()[1] * 2)
    axis.grid(axis="y", alpha=0.3)
    save_figure(figure, path)
