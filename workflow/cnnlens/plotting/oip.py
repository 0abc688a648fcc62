"""Figures of the OIP stage: each map's OIP and its evolution, a layer's sheet, node OIPs.

They draw a :class:`cnnlens.oip.results.SearchResult`; nothing here computes or writes data.
Grey OIPs (H, W) are drawn with the configured colour map over the model's input range
(``display_range``: -3..3 for standardised inputs, [low, high] for a bounded range); colour
OIPs (H, W, 3) are drawn in colour, each image scaled to 0..1 on its own (the titles say so).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from cnnlens.oip.results import SearchResult, check_outputs, node_grids
from cnnlens.plotting.figures import Redrawn, plt, resolve_colormap, save_figure
from cnnlens.tiles import equalise, grid_shape, tile_mosaic

#: OIPs are standardised images: this range shows them without clipping much.
DISPLAY_RANGE = (-3.0, 3.0)
COLORMAP_SETTING = "oip.colormap"
#: What the figures of colour OIPs say about their values.
COLOUR_NOTE = "colour, each image scaled to 0..1"
Range = tuple[float, float]


def is_colour(image: np.ndarray) -> bool:
    """True for an (H, W, 3) colour image (grey images are (H, W))."""
    return np.ndim(image) == 3


def to_unit(image: np.ndarray) -> np.ndarray:
    """An image stretched to 0..1 between its own minimum and maximum (all channels
    together, so its colours keep their balance)."""
    low, high = float(np.min(image)), float(np.max(image))
    return np.clip((np.asarray(image, np.float64) - low) / max(high - low, 1e-12), 0.0, 1.0)


def colour_mosaic(images: np.ndarray, columns: int) -> np.ndarray:
    """Colour images (N, H, W, 3), each scaled to 0..1, tiled as a (rows, columns) mosaic
    with white 1-pixel gaps."""
    scaled = np.stack([to_unit(image) for image in images])
    planes = [tile_mosaic(scaled[..., channel], columns=columns) for channel in range(3)]
    return np.nan_to_num(np.stack(planes, axis=-1), nan=1.0)


def describe(objective: float, status: str) -> str:
    return "dead: never fired" if status == "dead" else f"objective {objective:.4g}"


class MapOipFigure:
    """The OIP twice: plain colour map with a colour bar, and contrast-enhanced (equalised);
    a colour OIP plain (scaled to 0..1) and equalised over all its channels together.

    Built once for images of ``shape`` (H, W) or (H, W, 3) and redrawn for every map of a
    layer (figures are slow to build)."""

    def __init__(self, shape: tuple[int, ...], colormap: str = "viridis") -> None:
        self.figure, (plain, enhanced) = plt.subplots(1, 2, figsize=(6.4, 3.4))
        self.figure.subplots_adjust(left=0.02, right=0.98, bottom=0.04, top=0.8, wspace=0.25)
        blank = np.zeros(shape)
        self.colour = len(shape) == 3
        titles = ("plain", "contrast-enhanced")
        bars = []
        if self.colour:
            self.plain = plain.imshow(blank)
            titles = (f"plain ({COLOUR_NOTE})", "contrast-enhanced")
        else:
            self.plain = plain.imshow(blank, cmap=resolve_colormap(colormap, COLORMAP_SETTING))
            bars.append(self.figure.colorbar(self.plain, ax=plain, fraction=0.046, pad=0.04).ax)
        self.enhanced = enhanced.imshow(blank, cmap="gray", vmin=0, vmax=1)
        for axis, title in zip((plain, enhanced), titles):
            _no_ticks(axis)
            axis.set_title(title, **({"fontsize": 9} if self.colour else {}))
        self.title = self.figure.suptitle("")
        # redrawn per map: the images (and the frames over them), the colour bar, the title
        self.page = Redrawn(
            self.figure,
            [self.plain, self.enhanced, *_frames(plain, enhanced), *bars, self.title],
        )

    def save(self, image: np.ndarray, title: str, path: str | os.PathLike) -> None:
        if self.colour:
            self.plain.set_data(to_unit(image))
        else:
            self.plain.set_data(image)
            self.plain.set_clim(float(np.min(image)), float(np.max(image)))
        self.enhanced.set_data(equalise(image))
        self.title.set_text(title)
        self.page.save(path)


class EvolutionFigure:
    """The best restart's image at the snapshot steps, and every restart's objective per step.

    Built once per layer (same snapshot steps, restarts and image ``shape`` (H, W), or
    (H, W, 3) drawn in colour, each snapshot scaled to 0..1) and redrawn for every map; grey
    snapshots are drawn over ``display_range``."""

    def __init__(
        self,
        snapshot_steps: Sequence[int],
        restarts: int,
        steps: int,
        shape: tuple[int, ...],
        colormap: str = "viridis",
        display_range: Range = DISPLAY_RANGE,
    ) -> None:
        self.snapshot_steps = list(snapshot_steps)
        columns = max(len(self.snapshot_steps), 1)
        # wide enough for the title and the curve's axis labels, however few snapshots
        width = max(1.6 * columns + 1.2, 6.4)
        self.figure = plt.figure(figsize=(width, 4.8))
        grid = self.figure.add_gridspec(
            2,
            columns,
            height_ratios=(1, 1.1),
            left=0.95 / width,
            right=1 - 0.15 / width,
            bottom=0.1,
            top=0.84,
            hspace=0.35,
        )
        cmap = resolve_colormap(colormap, COLORMAP_SETTING)
        low, high = display_range
        self.colour = len(shape) == 3
        self.images, self.image_titles = [], []
        for column in range(len(self.snapshot_steps)):
            axis = self.figure.add_subplot(grid[0, column])
            self.images.append(axis.imshow(np.zeros(shape), cmap=cmap, vmin=low, vmax=high))
            self.image_titles.append(axis.set_title("", fontsize=8))
            _no_ticks(axis)
        self.curves = self.figure.add_subplot(grid[1, :])
        self.lines = [
            self.curves.plot(np.arange(steps + 1), np.zeros(steps + 1))[0] for _ in range(restarts)
        ]
        self.curves.set_xscale("symlog", linthresh=10)
        self.curves.set_xlim(0, max(steps, 1))
        self.curves.set(xlabel="step", ylabel="objective (mean activation)")
        self.curves.grid(alpha=0.3)
        self.title = self.figure.suptitle("")
        if self.colour:
            self.figure.text(0.01, 0.01, f"snapshots in {COLOUR_NOTE}", fontsize=7)
        snapshot_axes = [image.axes for image in self.images]
        self.page = Redrawn(
            self.figure,
            [*self.images, *self.image_titles, *_frames(*snapshot_axes), self.curves, self.title],
        )

    def save(
        self,
        snapshots: np.ndarray,
        histories: np.ndarray,
        best: int,
        title: str,
        path: str | os.PathLike,
    ) -> None:
        for step, image, shown, label in zip(
            self.snapshot_steps, snapshots, self.images, self.image_titles
        ):
            shown.set_data(to_unit(image) if self.colour else image)
            label.set_text(f"step {step}\n{histories[best, step]:.3g}")
        for restart, (line, history) in enumerate(zip(self.lines, histories)):
            chosen = restart == best
            line.set_ydata(history)
            line.set(
                linewidth=1.8 if chosen else 0.8,
                alpha=1 if chosen else 0.6,
                label=f"restart {restart}" + (" (best)" if chosen else ""),
                zorder=3 if chosen else 2,
            )
        low, high = float(np.min(histories)), float(np.max(histories))
        margin = 0.05 * (high - low) or 0.05
        self.curves.set_ylim(low - margin, high + margin)
        self.curves.legend(fontsize=7, ncol=min(len(self.lines), 4), loc="upper left")
        self.title.set_text(title)
        self.page.save(path)


def _frames(*axes) -> list:
    """The spines of ``axes``: drawn again over their redrawn images."""
    return [spine for axis in axes for spine in axis.spines.values()]


def _no_ticks(axis) -> None:
    axis.set_xticks([])
    axis.set_yticks([])


def unit_name(map_index: int, class_names: Sequence[str] | None) -> str:
    """``4`` or, for the output layer's units, ``4 (class Coat)``."""
    if class_names is None:
        return f"{map_index}"
    return f"{map_index} (class {class_names[map_index]})"


def map_title(
    layer: str,
    map_index: int,
    objective: float,
    status: str,
    class_names: Sequence[str] | None = None,
) -> str:
    return f"{layer} map {unit_name(map_index, class_names)}: {describe(objective, status)}"


def plot_sheet(
    oips: np.ndarray,
    maps: Sequence[int],
    statuses: Sequence[str],
    layer: str,
    path: str | os.PathLike,
    colormap: str = "viridis",
    columns: int = 8,
    display_range: Range = DISPLAY_RANGE,
    class_names: Sequence[str] | None = None,
) -> None:
    """All OIPs of a layer in one grid (8 per row), each labelled with its map (and class,
    for the output layer); dead maps are marked. Grey OIPs over ``display_range``, colour
    ones each scaled to 0..1."""
    colour = is_colour(oips[0])
    rows, columns = grid_shape(len(oips), columns)
    height, width = oips.shape[1:3]
    figure, axis = plt.subplots(figsize=(1.2 * columns + 0.8, 1.2 * rows + 0.8))
    if colour:
        axis.imshow(colour_mosaic(oips, columns))
    else:
        axis.imshow(
            tile_mosaic(np.clip(oips, *display_range), columns=columns),
            cmap=resolve_colormap(colormap, COLORMAP_SETTING, bad="white"),
            vmin=display_range[0],
            vmax=display_range[1],
        )
    for index, (map_index, status) in enumerate(zip(maps, statuses)):
        row, column = divmod(index, columns)
        dead = status == "dead"
        axis.text(
            column * (width + 1) + 0.5,
            row * (height + 1) + 0.5,
            (f"{map_index}" if class_names is None else f"{map_index} {class_names[map_index]}")
            + (" dead" if dead else ""),
            color="white",
            fontsize=6,
            va="top",
            ha="left",
            bbox={
                "facecolor": "red" if dead else "black",
                "alpha": 0.8 if dead else 0.5,
                "pad": 0.5,
                "linewidth": 0,
            },
        )
    axis.set_axis_off()
    alive = sum(status != "dead" for status in statuses)
    note = f"\n({COLOUR_NOTE})" if colour else ""
    axis.set_title(f"{layer}: OIPs of {len(oips)} maps ({alive} with an OIP){note}")
    save_figure(figure, path)


def plot_node_oips(
    oips: np.ndarray,
    objectives: np.ndarray,
    layer: str,
    map_index: int,
    path: str | os.PathLike,
    colormap: str = "viridis",
    display_range: Range = DISPLAY_RANGE,
) -> None:
    """One map's node OIPs (h, w, H, W[, 3]), each at its node's place in the map."""
    height, width = oips.shape[:2]
    figure, axes = plt.subplots(height, width, figsize=(1.7 * width, 1.8 * height), squeeze=False)
    cmap = resolve_colormap(colormap, COLORMAP_SETTING)
    colour = oips.ndim == 5
    for (i, j), axis in np.ndenumerate(axes):
        if colour:
            axis.imshow(to_unit(oips[i, j]))
        else:
            axis.imshow(oips[i, j], cmap=cmap, vmin=display_range[0], vmax=display_range[1])
        axis.set_title(f"node ({i}, {j})\n{objectives[i, j]:.3g}", fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
    note = f" ({COLOUR_NOTE})" if colour else ""
    figure.suptitle(f"{layer} map {map_index}: one OIP per node{note}")
    figure.tight_layout()
    save_figure(figure, path)


def plot_layer(
    result: SearchResult,
    map_paths: Sequence[str | os.PathLike],
    evolution_paths: Sequence[str | os.PathLike],
    sheet_path: str | os.PathLike,
    colormap: str = "viridis",
    display_range: Range = DISPLAY_RANGE,
    class_names: Sequence[str] | None = None,
) -> None:
    """Every figure of one layer's OIP search (grey OIPs drawn over ``display_range``);
    ``class_names`` for the output layer, whose units are the classes."""
    check_outputs(result, map_paths, "OIP figure")
    check_outputs(result, evolution_paths, "evolution figure")
    statuses = np.where(result.dead, "dead", "ok")
    best = result.best_restart
    shape = result.oips.shape[1:]
    oip_figure = MapOipFigure(shape, colormap)
    restarts, length = result.histories.shape[1:]
    evolution = EvolutionFigure(
        result.snapshot_steps, restarts, length - 1, shape, colormap, display_range
    )
    for index, map_index in enumerate(result.maps):
        title = map_title(
            result.layer,
            int(map_index),
            float(result.objective[index]),
            statuses[index],
            class_names,
        )
        oip_figure.save(result.oips[index], title, map_paths[index])
        evolution.save(
            result.snapshots[index],
            result.histories[index],
            int(best[index]),
            f"{result.layer} map {unit_name(int(map_index), class_names)}: from noise to OIP",
            evolution_paths[index],
        )
    plt.close(oip_figure.figure)
    plt.close(evolution.figure)
    plot_sheet(
        result.oips, result.maps, statuses, result.layer, sheet_path, colormap,
        display_range=display_range, class_names=class_names,
    )


def plot_node_layer(
    result: SearchResult,
    paths: Sequence[str | os.PathLike],
    colormap: str = "viridis",
    display_range: Range = DISPLAY_RANGE,
) -> None:
    """One node-OIP figure per map of a node search."""
    for (map_index, images, values), path in zip(node_grids(result), paths, strict=True):
        plot_node_oips(images, values, result.layer, map_index, path, colormap, display_range)


def display_range_of(preprocessing) -> Range:
    """The value range grey OIPs are drawn over: -3..3 for standardised inputs, the input
    range [low, high] of a bounded preprocessing (a :class:`cnnlens.preprocessing.
    Preprocessing`)."""
    if preprocessing is None or not preprocessing.bounded:
        return DISPLAY_RANGE
    return float(preprocessing.low), float(preprocessing.high)
