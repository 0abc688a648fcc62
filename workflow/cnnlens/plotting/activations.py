"""Figures of one selected test image: each layer's grid of maps (or nodes) on a page of its
own, and the overview page: the image (in colour for a colour model), its class probabilities
by class name and every layer's grid."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.image import AxesImage

from cnnlens.activations.examples import Example, class_name
from cnnlens.activations.grids import LayerGrid
from cnnlens.plotting.figures import plt, save_figure
from cnnlens.plotting.layer_grids import (
    add_colorbar,
    draw_grid,
    grid_title,
    mosaic_aspect,
    name_rotation,
    short_title,
)

TRUE_CLASS_COLOUR = "tab:red"
GRID_INCHES = 7.0  # the longer side of a single grid figure
OVERVIEW_WIDTH = 15.0
OVERVIEW_ROW_ASPECT = 4.0  # panels share a row of the overview while their widths fit this
OVERVIEW_MAX_ROW = 4.0  # inches: the tallest row of the overview


def plot_layer_grid(
    grid: LayerGrid,
    example: Example,
    colormap: str,
    path: str | os.PathLike,
    class_names: Sequence[str] = (),
) -> None:
    """One layer's grid for one image, titled with the layer, its shape and value range, and
    the image's label and prediction by class name."""
    inches = GRID_INCHES / max(grid.mosaic.shape)
    figure, axis = plt.subplots(
        figsize=(grid.mosaic.shape[1] * inches + 1.6, grid.mosaic.shape[0] * inches + 1.2)
    )
    image = draw_grid(axis, grid, colormap)
    add_colorbar(figure, image, axis, grid)
    axis.set_title(f"{grid_title(grid)}\n{example.describe(class_names)}", fontsize=8)
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


def display_colour(image: np.ndarray) -> np.ndarray:
    """A colour image (H, W, 3) of any values scaled to 0..1 over its own range, to draw."""
    values = np.asarray(image, dtype=np.float64)
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def draw_input(
    axis: Axes, image: np.ndarray, example: Example, class_names: Sequence[str] = ()
) -> None:
    """The input image: grey (H, W) through the grey colour map over its own range, colour
    (H, W, 3) scaled to 0..1 over its own range."""
    if image.ndim == 3:
        axis.imshow(display_colour(image), interpolation="nearest")
    else:
        axis.imshow(image, cmap="gray", interpolation="nearest")
    label = class_name(class_names, example.label)
    axis.set_title(f"input, test image {example.index} (label {label})", fontsize=8)
    axis.set_xticks([])
    axis.set_yticks([])


def draw_probabilities(axis: Axes, example: Example, class_names: Sequence[str] = ()) -> None:
    """The class probabilities as bars under the class names, the true class in red, the
    predicted class outlined."""
    classes = np.arange(len(example.probabilities))
    colours = [TRUE_CLASS_COLOUR if label == example.label else "grey" for label in classes]
    bars = axis.bar(classes, example.probabilities, color=colours)
    bars[example.predicted].set_edgecolor("black")
    bars[example.predicted].set_linewidth(1.5)
    axis.set(xticks=classes, ylim=(0, 1.05), xlabel="class", ylabel="probability")
    if class_names:
        axis.set_xticklabels(class_names, rotation=name_rotation(class_names))
    predicted = class_name(class_names, example.predicted)
    axis.set_title(
        f"predicted {predicted} (p = {example.confidence:.3f}); red: true class",
        fontsize=8,
    )
    axis.grid(axis="y", alpha=0.3)


def plot_overview(
    example: Example,
    image: np.ndarray,
    grids: Sequence[LayerGrid],
    colormap: str,
    path: str | os.PathLike,
    class_names: Sequence[str] = (),
) -> None:
    """One page per image: the image, the class probabilities, and every layer's grid.

    Panels are packed into rows in layer order; grids share one colour bar when they share
    colour limits (standardised values), else each has its own.
    """
    aspects = [image.shape[1] / image.shape[0], 2.5] + [mosaic_aspect(grid) for grid in grids]
    rows = pack_rows(aspects)
    heights = [
        min(OVERVIEW_WIDTH / sum(aspects[i] for i in row), OVERVIEW_MAX_ROW) + 0.7 for row in rows
    ]
    shared = len({grid.limits for grid in grids}) == 1
    if shared:
        heights.append(0.8)  # a last row for the shared colour bar
    figure = plt.figure(figsize=(OVERVIEW_WIDTH, sum(heights) + 0.8), layout="constrained")
    figure.suptitle(
        f"{example.describe(class_names)}\nchosen as: {'; '.join(example.reasons)}"
    )
    subfigures = np.atleast_1d(figure.subfigures(len(heights), 1, height_ratios=heights))
    drawn: list[AxesImage] = []
    for subfigure, row in zip(subfigures, rows):
        axes = np.atleast_1d(
            subfigure.subplots(1, len(row), width_ratios=[aspects[i] for i in row])
        )
        for axis, panel in zip(axes, row):
            if panel == 0:
                draw_input(axis, image, example, class_names)
            elif panel == 1:
                draw_probabilities(axis, example, class_names)
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
