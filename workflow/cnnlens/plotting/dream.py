"""Figures and files of the dream stage: single-map rows, overviews, octaves, full-size dreams,
and each render's PNG and metrics.json."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cnnlens.data import standardise_images
from cnnlens.dream import FineDreams, LayerDream, RenderMetrics, SingleMapDreams, map_name
from cnnlens.files import atomic_path, write_json
from cnnlens.plotting.figures import grid_shape, plt, save_figure

#: Colour map of the "colour" view of the 28x28 results.
COLOUR_MAP = "viridis"
PANEL_INCHES = 2.8
#: Panels of full-size dreams are larger: their patterns are fine.
FINE_INCHES = 4.5


def save_grey_png(image: np.ndarray, path: str | os.PathLike) -> None:
    """An image with values in 0..1 (H, W) as an 8-bit grey PNG, written atomically."""
    from PIL import Image

    pixels = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    with atomic_path(path) as temporary:
        Image.fromarray(pixels).save(temporary, format="PNG")


def _show(axis, image: np.ndarray, title: str, cmap: str = "gray", **scale: float) -> None:
    """One image panel without ticks; ``scale`` may give vmin and vmax."""
    axis.imshow(image, cmap=cmap, interpolation="nearest", **scale)
    axis.set_title(title, fontsize=9)
    axis.set_xticks([])
    axis.set_yticks([])


def _finish(figure, title: str | None, path: str | os.PathLike) -> None:
    """Title the figure (when a title is given), lay it out and save it."""
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    save_figure(figure, path)


def plot_map_row(
    photo: np.ndarray,
    oip: np.ndarray | None,
    small: np.ndarray,
    blurred: np.ndarray,
    final: np.ndarray,
    title: str,
    path: str | os.PathLike,
) -> None:
    """One map's dream in a row: the photo, the map's OIP (when known), the 28x28 result in
    colour and grey, the blurred enlarged dream, and the full-size result with the detail put
    back (range adjusted)."""
    panels = [(photo, "photo", "gray")]
    if oip is not None:
        panels.append((oip, "the map's OIP", "gray"))
    panels += [
        (small, "28x28 result (colour)", COLOUR_MAP),
        (small, "28x28 result (grey)", "gray"),
        (blurred, "dream enlarged (blurred)", "gray"),
        (final, "with detail, range adjusted", "gray"),
    ]
    figure, axes = plt.subplots(
        1, len(panels), figsize=(len(panels) * PANEL_INCHES, PANEL_INCHES + 0.6)
    )
    for axis, (image, label, cmap) in zip(axes, panels):
        _show(axis, image, label, cmap)
    _finish(figure, title, path)


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
        _show(axis, image, label)
    _finish(figure, title, path)


def plot_octaves(
    photo: np.ndarray,
    octaves: Sequence[np.ndarray],
    final: np.ndarray,
    objectives: Sequence[Sequence[float]],
    title: str,
    path: str | os.PathLike,
) -> None:
    """A layer dream: the photo, the dream after each octave (its size and objective), and the
    final image."""
    labels = [
        f"octave {index + 1}: {octave.shape[1]}x{octave.shape[0]}\n"
        f"objective {before:.3g} -> {after:.3g}"
        for index, (octave, (before, after)) in enumerate(zip(octaves, objectives))
    ]
    plot_overview(photo, [*octaves, final], [*labels, "final, range adjusted"], title, path)


def plot_fine(
    photo: np.ndarray,
    finals: np.ndarray,
    names: Sequence[str],
    gains: Sequence[tuple[float, float]],
    path: str | os.PathLike,
) -> None:
    """Full-size dreams: per render the result and its difference from the photo."""
    count = len(finals)
    aspect = photo.shape[0] / photo.shape[1]
    figure, axes = plt.subplots(
        count, 3, figsize=(3 * FINE_INCHES, count * FINE_INCHES * aspect + 0.4), squeeze=False
    )
    differences = standardise_images(finals) - standardise_images(photo[np.newaxis])
    for row, (final, difference, name, (before, after)) in enumerate(
        zip(finals, differences, names, gains)
    ):
        _show(axes[row, 0], photo, "photo")
        _show(axes[row, 1], final, f"{name}: objective {before:.3g} -> {after:.3g}")
        limit = max(float(np.percentile(np.abs(difference), 99)), 1e-12)
        _show(axes[row, 2], difference, "dream minus photo (standardised)", "RdBu_r",
              vmin=-limit, vmax=limit)
    _finish(figure, None, path)


# --------------------------------------------------------------------------------------------
# A render's files: its image, its figure, its metrics.json
# --------------------------------------------------------------------------------------------


def render_title(record: RenderMetrics) -> str:
    """``Conv2D_3 map 7: objective 0.1 -> 3.2, correlation with the photo 0.66``."""
    return (
        f"{record.objective}: objective {record.objective_before:.3g} -> "
        f"{record.objective_after:.3g}, correlation with the photo "
        f"{record.correlation_with_photo:.2f}"
    )


def write_map_renders(
    directory: str | os.PathLike,
    photo: np.ndarray,
    dreams: SingleMapDreams,
    records: Sequence[RenderMetrics],
    oips: np.ndarray | None = None,
) -> None:
    """Per map ``{directory}/map_NNN/`` with row.png, dream.png and metrics.json; and
    ``overview.png`` of all maps. ``oips`` (M, 28, 28), when given, are drawn in the rows."""
    directory = Path(directory)
    for row, (index, record) in enumerate(zip(dreams.maps, records)):
        folder = directory / map_name(index)
        plot_map_row(
            photo, None if oips is None else oips[row], dreams.small[row], dreams.blurred[row],
            dreams.final[row], render_title(record), folder / "row.png",
        )
        save_grey_png(dreams.final[row], folder / "dream.png")
        write_json(folder / "metrics.json", record.record())
    gains = [
        f"map {index}: {record.objective_before:.3g} -> {record.objective_after:.3g}"
        for index, record in zip(dreams.maps, records)
    ]
    plot_overview(
        photo, dreams.final, gains, "single-map dreams (objective before -> after)",
        directory / "overview.png",
    )


def write_layer_render(
    image: str | os.PathLike,
    figure: str | os.PathLike,
    metrics: str | os.PathLike,
    photo: np.ndarray,
    dream: LayerDream,
    record: RenderMetrics,
) -> None:
    """A layer dream's final image (PNG), its figure of the octaves and its metrics.json."""
    save_grey_png(dream.final, image)
    plot_octaves(
        photo, dream.octaves, dream.final, dream.objective_octaves, render_title(record), figure
    )
    write_json(metrics, record.record())


def write_fine_renders(
    images: Sequence[str | os.PathLike],
    metrics: Sequence[str | os.PathLike],
    figure: str | os.PathLike,
    photo: np.ndarray,
    dreams: FineDreams,
    records: Sequence[RenderMetrics],
) -> None:
    """Each full-size render's PNG and metrics.json (in render order), and one figure of all."""
    for image, metric, final, record in zip(images, metrics, dreams.final, records):
        save_grey_png(final, image)
        write_json(metric, record.record())
    gains = [(record.objective_before, record.objective_after) for record in records]
    plot_fine(photo, dreams.final, dreams.names, gains, figure)
