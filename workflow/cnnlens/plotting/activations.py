"""Figures of the selected test images: each layer's grid of maps (or nodes) on a page of its
own, and the overview page: the image (in colour for a colour model), its class probabilities
by class name and every layer's grid.

Every image's pages have the same layout, so each page is built once (for the first image) and
redrawn for the others (:class:`GridPage`, :class:`OverviewPage`): building and laying out a
figure costs several times drawing it, and drawing its tick labels and colour bars costs
several times drawing its images, so only these are drawn again
(:class:`cnnlens.plotting.figures.Redrawn`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.image import AxesImage

from cnnlens.activations.example_set import ExampleSet
from cnnlens.activations.examples import Example, class_name
from cnnlens.activations.grids import LayerGrid, layer_grids
from cnnlens.plotting.figures import Redrawn, content_box, plt
from cnnlens.plotting.layer_grids import (
    add_colorbar,
    bar_below,
    colour_limits,
    draw_grid,
    grid_artists,
    grid_title,
    mosaic_aspect,
    name_rotation,
    short_title,
)
from cnnlens.settings import Grid

TRUE_CLASS_COLOUR = "tab:red"
GRID_INCHES = 7.0  # the longer side of a single grid figure
GRID_MIN_WIDTH = 7.5  # inches: room for the title above a narrow grid
BAR_BELOW_INCHES = 1.0  # more height for a colour bar below a wide strip (the output layer)
OVERVIEW_WIDTH = 15.0
OVERVIEW_ROW_ASPECT = 4.0  # panels share a row of the overview while their widths fit this
OVERVIEW_MAX_ROW = 4.0  # inches: the tallest row of the overview


def plot_example_pages(
    example_set: ExampleSet,
    layers: Sequence[str],
    grid: Grid,
    directory: str | os.PathLike,
    class_names: Sequence[str] = (),
) -> None:
    """For every image of ``example_set``, ``directory/test_{index}/``: each layer's grid
    (``{layer}.png``) and the overview page (``overview.png``)."""
    os.makedirs(directory, exist_ok=True)  # also when no test image matches the selection
    pages: list[GridPage] = []
    overview: OverviewPage | None = None
    for example in example_set.examples:
        folder = os.path.join(directory, f"test_{example.index}")
        os.makedirs(folder, exist_ok=True)
        activations = example_set.activations_of(example.index, layers)
        grids = layer_grids(activations, grid, example_set.output_layer, class_names)
        image = example_set.image(example.index)
        if overview is None:
            pages = [GridPage(layer_grid, grid.colormap, class_names) for layer_grid in grids]
            overview = OverviewPage(example, image, grids, grid.colormap, class_names)
        for page, layer_grid in zip(pages, grids, strict=True):
            page.save(layer_grid, example, os.path.join(folder, f"{layer_grid.layer}.png"))
        overview.save(example, image, grids, os.path.join(folder, "overview.png"))
    for page in [*pages, *([overview] if overview else [])]:
        page.close()


class GridPage:
    """One layer's grid on a page of its own, titled with the layer, its shape and value range,
    and the image's label and prediction by class name."""

    def __init__(self, grid: LayerGrid, colormap: str, class_names: Sequence[str] = ()) -> None:
        inches = GRID_INCHES / max(grid.mosaic.shape)
        width = max(grid.mosaic.shape[1] * inches + 1.6, GRID_MIN_WIDTH)
        below = BAR_BELOW_INCHES if bar_below(grid) else 0.0  # room for the bar and its label
        height = grid.mosaic.shape[0] * inches + 1.2 + below
        self.figure, axis = plt.subplots(
            figsize=(width, height), gridspec_kw={"bottom": below / height} if below else None
        )
        self.image = draw_grid(axis, grid, colormap)
        bar = add_colorbar(self.figure, self.image, axis, grid)
        self.title = axis.set_title("", fontsize=8)
        # the colour bar changes with the image when the colours span each image's own values
        self.changing = [*grid_artists(axis), *([bar] if grid.values == "raw" else [])]
        self.class_names = tuple(class_names)
        self.page: Redrawn | None = None

    def save(self, grid: LayerGrid, example: Example, path: str | os.PathLike) -> None:
        self.image.set_data(grid.mosaic)
        self.image.set_clim(*colour_limits(grid.limits))
        self.title.set_text(f"{grid_title(grid)}\n{example.describe(self.class_names)}")
        if self.page is None:
            self.page = Redrawn(self.figure, self.changing, content_box(self.figure))
        self.page.save(path)

    def close(self) -> None:
        plt.close(self.figure)


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
) -> AxesImage:
    """The input image: grey (H, W) through the grey colour map over its own range, colour
    (H, W, 3) scaled to 0..1 over its own range."""
    shown = axis.imshow(np.zeros(image.shape), cmap="gray", interpolation="nearest")
    axis.set_xticks([])
    axis.set_yticks([])
    show_input(shown, image, example, class_names)
    return shown


def show_input(
    shown: AxesImage, image: np.ndarray, example: Example, class_names: Sequence[str] = ()
) -> None:
    """Put ``image`` into the input panel drawn by :func:`draw_input`, with its title."""
    if image.ndim == 3:
        shown.set_data(display_colour(image))
    else:
        shown.set_data(image)
        shown.set_clim(float(image.min()), float(image.max()))
    label = class_name(class_names, example.label)
    shown.axes.set_title(f"input, test image {example.index} (label {label})", fontsize=8)


def draw_probabilities(axis: Axes, example: Example, class_names: Sequence[str] = ()) -> list:
    """The class probabilities as bars under the class names, the true class in red, the
    predicted class outlined; returns the bars."""
    classes = np.arange(len(example.probabilities))
    bars = list(axis.bar(classes, np.zeros(len(classes)), color="grey"))
    axis.set(xticks=classes, ylim=(0, 1.05), xlabel="class", ylabel="probability")
    if class_names:
        axis.set_xticklabels(class_names, rotation=name_rotation(class_names))
    axis.grid(axis="y", alpha=0.3)
    show_probabilities(bars, example, class_names)
    return bars


def show_probabilities(bars: Sequence, example: Example, class_names: Sequence[str] = ()) -> None:
    """Put ``example``'s probabilities into the bars drawn by :func:`draw_probabilities`."""
    for label, (bar, probability) in enumerate(zip(bars, example.probabilities, strict=True)):
        bar.set_height(probability)
        bar.set_facecolor(TRUE_CLASS_COLOUR if label == example.label else "grey")
        predicted = label == example.predicted
        bar.set_edgecolor("black" if predicted else "none")
        bar.set_linewidth(1.5 if predicted else 0)
    predicted = class_name(class_names, example.predicted)
    bars[0].axes.set_title(
        f"predicted {predicted} (p = {example.confidence:.3f}); red: true class", fontsize=8
    )


class OverviewPage:
    """One page per image: the image, the class probabilities, and every layer's grid.

    Panels are packed into rows in layer order; grids share one colour bar when they share
    colour limits (standardised values), else each has its own. The constrained layout runs
    for the first image only.
    """

    def __init__(
        self,
        example: Example,
        image: np.ndarray,
        grids: Sequence[LayerGrid],
        colormap: str,
        class_names: Sequence[str] = (),
    ) -> None:
        """Built for ``example`` (its ``image`` and ``grids``); :meth:`save` draws any image."""
        self.class_names = tuple(class_names)
        aspects = [image.shape[1] / image.shape[0], 2.5] + [mosaic_aspect(g) for g in grids]
        rows = pack_rows(aspects)
        heights = [
            min(OVERVIEW_WIDTH / sum(aspects[i] for i in row), OVERVIEW_MAX_ROW) + 0.7
            for row in rows
        ]
        shared = len({grid.limits for grid in grids}) == 1
        if shared:
            heights.append(0.8)  # a last row for the shared colour bar
        self.figure = plt.figure(figsize=(OVERVIEW_WIDTH, sum(heights) + 0.8), layout="constrained")
        self.title = self.figure.suptitle("")
        subfigures = np.atleast_1d(self.figure.subfigures(len(heights), 1, height_ratios=heights))
        self.grids: list[AxesImage] = []
        self.grid_titles = []
        self.changing = [self.title]
        for subfigure, row in zip(subfigures, rows):
            axes = np.atleast_1d(
                subfigure.subplots(1, len(row), width_ratios=[aspects[i] for i in row])
            )
            for axis, panel in zip(axes, row):
                if panel == 0:
                    self.input = draw_input(axis, image, example, class_names)
                    self.changing.append(axis)
                elif panel == 1:
                    self.bars = draw_probabilities(axis, example, class_names)
                    self.changing.append(axis)
                else:
                    grid = grids[panel - 2]
                    self.grids.append(draw_grid(axis, grid, colormap))
                    self.grid_titles.append(axis.set_title("", fontsize=8))
                    self.changing.extend(grid_artists(axis))
                    if not shared:  # each grid's colours span its own values
                        self.changing.append(add_colorbar(subfigure, self.grids[-1], axis, grid))
        if shared and self.grids:
            bar_figure = subfigures[-1]
            bar = bar_figure.colorbar(
                self.grids[0], cax=bar_figure.add_axes((0.3, 0.6, 0.4, 0.25)),
                orientation="horizontal",
            )
            bar.set_label("per map: (x - mean) / std * 64 + 128 (dense layers: over the layer)")
        self.page: Redrawn | None = None

    def save(
        self,
        example: Example,
        image: np.ndarray,
        grids: Sequence[LayerGrid],
        path: str | os.PathLike,
    ) -> None:
        self.title.set_text(
            f"{example.describe(self.class_names)}\nchosen as: {'; '.join(example.reasons)}"
        )
        show_input(self.input, image, example, self.class_names)
        show_probabilities(self.bars, example, self.class_names)
        for shown, title, grid in zip(self.grids, self.grid_titles, grids, strict=True):
            shown.set_data(grid.mosaic)
            shown.set_clim(*colour_limits(grid.limits))
            title.set_text(short_title(grid))
        if self.page is None:
            self.figure.canvas.draw()  # lays the page out, once
            crop = content_box(self.figure)
            self.figure.set_layout_engine("none")
            self.page = Redrawn(self.figure, self.changing, crop)
        self.page.save(path)

    def close(self) -> None:
        plt.close(self.figure)
