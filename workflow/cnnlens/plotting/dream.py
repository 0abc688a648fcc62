"""Figures of the dream stage: single-map rows and overviews, a layer dream's octaves, and the
full-size dreams beside their difference from the photo. Drawing only: the dream scripts
write the images and records themselves.

Grey images are drawn in grey (each over its own value range); colour images (H, W, 3) in
colour, each stretched to 0..1 between its 0.5 and 99.5 percentiles (the panels say so).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cnnlens.dream.display import adjust_range
from cnnlens.dream.names import map_name
from cnnlens.dream.records import RenderMetrics, render_title
from cnnlens.dream.results import FineDreams, OctaveDream, SingleMapDreams
from cnnlens.plotting.figures import plt, save_figure
from cnnlens.preprocessing import standardise
from cnnlens.tiles import grid_shape

#: Colour map of the "colour" view of the results at the CNN's view.
COLOUR_MAP = "viridis"
PANEL_INCHES = 2.8
#: Panels of full-size dreams are larger: their patterns are fine.
FINE_INCHES = 4.5


#: What the panels of colour images say about their values.
COLOUR_NOTE = "colour, range adjusted"


def show(axis, image: np.ndarray, title: str, cmap: str = "gray", **scale: float) -> None:
    """One image panel without ticks; ``scale`` may give vmin and vmax. A colour image
    (H, W, 3) is drawn in colour, range adjusted to 0..1."""
    if np.ndim(image) == 3:
        axis.imshow(adjust_range(image, colour=True), interpolation="nearest")
    else:
        axis.imshow(image, cmap=cmap, interpolation="nearest", **scale)
    axis.set_title(title, fontsize=9)
    axis.set_xticks([])
    axis.set_yticks([])


def finish(figure, title: str | None, path: str | os.PathLike) -> None:
    """Title the figure (when a title is given), lay it out and save it."""
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    save_figure(figure, path)


def size_label(image: np.ndarray) -> str:
    """``28x28``: an image's width x height."""
    return f"{image.shape[1]}x{image.shape[0]}"


def plot_map_row(
    photo: np.ndarray,
    oip: np.ndarray | None,
    small: np.ndarray,
    blurred: np.ndarray,
    final: np.ndarray,
    title: str,
    path: str | os.PathLike,
) -> None:
    """One map's dream in a row: the photo, the map's OIP (when known), the result at the
    CNN's view (grey: in a colour map and in grey; colour: in colour), the blurred enlarged
    dream, and the full-size result with the detail put back (range adjusted)."""
    panels = [(photo, "photo", "gray")]
    if oip is not None:
        panels.append((oip, "the map's OIP", "gray"))
    if np.ndim(small) == 3:
        panels.append((small, f"{size_label(small)} result ({COLOUR_NOTE})", "gray"))
    else:
        panels += [
            (small, f"{size_label(small)} result (colour)", COLOUR_MAP),
            (small, f"{size_label(small)} result (grey)", "gray"),
        ]
    panels += [
        (blurred, "dream enlarged (blurred)", "gray"),
        (final, "with detail, range adjusted", "gray"),
    ]
    figure, axes = plt.subplots(
        1, len(panels), figsize=(len(panels) * PANEL_INCHES, PANEL_INCHES + 0.6)
    )
    for axis, (image, label, cmap) in zip(axes, panels):
        show(axis, image, label, cmap)
    finish(figure, title, path)


def plot_overview(
    photo: np.ndarray,
    images: Sequence[np.ndarray],
    titles: Sequence[str],
    title: str,
    path: str | os.PathLike,
) -> None:
    """The photo and several full-size dreams of it side by side (up to 4 per row)."""
    panels = [photo, *images]
    labels = ["photo", *titles]
    rows, columns = grid_shape(len(panels), columns=4)
    aspect = photo.shape[0] / photo.shape[1]
    figure, axes = plt.subplots(
        rows, columns,
        figsize=(columns * PANEL_INCHES, rows * (PANEL_INCHES * aspect + 0.5) + 0.4),
        squeeze=False,
    )
    for axis in axes.flat[len(panels):]:
        axis.set_axis_off()
    for axis, image, label in zip(axes.flat, panels, labels):
        show(axis, image, label)
    finish(figure, title, path)


def plot_map_dreams(
    directory: str | os.PathLike,
    photo: np.ndarray,
    dreams: SingleMapDreams,
    records: Sequence[RenderMetrics],
    oips: np.ndarray | None = None,
) -> None:
    """Per map ``{directory}/map_NNN/row.png``, and ``{directory}/overview.png`` of all maps;
    ``oips`` (one per map), when given, are drawn in the rows."""
    directory = Path(directory)
    for row, (index, record) in enumerate(zip(dreams.maps, records)):
        plot_map_row(
            photo, None if oips is None else oips[row], dreams.small[row], dreams.blurred[row],
            dreams.final[row], render_title(record), directory / map_name(index) / "row.png",
        )
    gains = [
        f"map {index}: {record.objective_before:.3g} -> {record.objective_after:.3g}"
        for index, record in zip(dreams.maps, records)
    ]
    plot_overview(
        photo, dreams.final, gains, "single-map dreams (objective before -> after)",
        directory / "overview.png",
    )


def plot_octaves(
    photo: np.ndarray, dream: OctaveDream, record: RenderMetrics, path: str | os.PathLike
) -> None:
    """A layer dream: the photo, the dream after each octave (its size and objective), and the
    final image."""
    labels = [
        f"octave {index + 1}: {size_label(octave)}\nobjective {before:.3g} -> {after:.3g}"
        for index, (octave, (before, after)) in enumerate(
            zip(dream.octaves, dream.objective_octaves)
        )
    ]
    plot_overview(
        photo, [*dream.octaves, dream.final], [*labels, "final, range adjusted"],
        render_title(record), path,
    )


def plot_fine(
    photo: np.ndarray,
    dreams: FineDreams,
    records: Sequence[RenderMetrics],
    path: str | os.PathLike,
) -> None:
    """Full-size dreams: per render the result and its difference from the photo (for colour
    images the mean difference over the channels)."""
    count = len(dreams.final)
    aspect = photo.shape[0] / photo.shape[1]
    figure, axes = plt.subplots(
        count, 3, figsize=(3 * FINE_INCHES, count * FINE_INCHES * aspect + 0.4), squeeze=False
    )
    differences = standardise(dreams.final) - standardise(photo[np.newaxis])
    colour = differences.ndim == 4
    if colour:
        differences = differences.mean(axis=-1)
    for row, (final, difference, name, record) in enumerate(
        zip(dreams.final, differences, dreams.names, records)
    ):
        gain = f"{record.objective_before:.3g} -> {record.objective_after:.3g}"
        show(axes[row, 0], photo, "photo")
        show(axes[row, 1], final, f"{name}: objective {gain}")
        limit = max(float(np.percentile(np.abs(difference), 99)), 1e-12)
        label = "dream minus photo (standardised" + (", mean of channels)" if colour else ")")
        show(axes[row, 2], difference, label, "RdBu_r", vmin=-limit, vmax=limit)
    finish(figure, None, path)
