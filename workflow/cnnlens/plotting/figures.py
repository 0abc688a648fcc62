"""What every figure shares: the Agg backend, atomic saving, redrawing a page for many images,
and colour maps by name."""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from PIL import Image

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from cnnlens.errors import CnnLensError
from cnnlens.files import atomic_path

DPI = 120
PAD_INCHES = 0.1  # savefig's pad around a tight bounding box
PNG_OPTIONS = {"compress_level": 2}  # much faster than the default 6, files ~20% larger


def save_figure(figure: Figure, path: str | os.PathLike) -> None:
    """Save ``figure`` atomically and release its memory."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=DPI, bbox_inches="tight")
    plt.close(figure)


def save_open_figure(figure: Figure, path: str | os.PathLike, crop: Bbox | None = None) -> None:
    """Save ``figure`` atomically and keep it open to be redrawn for the next image; ``crop``
    (inches) is the part kept, by default the whole figure."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=DPI, bbox_inches=crop, pil_kwargs=PNG_OPTIONS)


class Redrawn:
    """A figure saved once per image where only the ``changing`` artists differ (images, titles,
    bars): the rest (axes, tick labels, colour bars) is rendered once, and every save puts that
    rendering back, draws the changing artists over it in z-order and writes the pixels of
    ``crop`` (inches; None: the whole figure). Layout the figure before; what is drawn over an
    image (grid lines, spines) must be among the changing artists too.

    A page with many tick labels draws this way in a fraction of a full redraw. A ``crop``
    reaching outside the figure (content spilling over its edge) is saved by ``savefig``."""

    def __init__(
        self, figure: Figure, changing: Sequence[Artist], crop: Bbox | None = None
    ) -> None:
        self.figure = figure
        self.changing = sorted(changing, key=lambda artist: artist.get_zorder())
        self.crop = crop
        self.pixels = _pixel_box(figure, crop)
        if self.pixels is None:
            return  # saved whole by savefig
        figure.set_dpi(DPI)
        for artist in self.changing:
            artist.set_animated(True)
        figure.canvas.draw()
        self.background = figure.canvas.copy_from_bbox(figure.bbox)

    def save(self, path: str | os.PathLike) -> None:
        """Draw the changing artists over the background and save the page."""
        if self.pixels is None:
            save_open_figure(self.figure, path, self.crop)
            return
        canvas = self.figure.canvas
        canvas.restore_region(self.background)
        for artist in self.changing:
            self.figure.draw_artist(artist)
        page = _cut(np.asarray(canvas.buffer_rgba()), self.pixels, self.figure.get_facecolor())
        if page[..., 3].min() == 255:  # opaque: an RGB file, a tenth smaller
            page = page[..., :3]
        with atomic_path(path) as temporary:
            Image.fromarray(np.ascontiguousarray(page)).save(temporary, format="png", **PNG_OPTIONS)


def _pixel_box(figure: Figure, crop: Bbox | None) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) pixels of ``crop`` in the rendered figure (they may lie
    outside it, in the margin ``content_box`` adds); None when the content itself reaches
    outside the figure, which only ``savefig`` draws."""
    width, height = figure.get_size_inches()
    box = Bbox([[0, 0], [width, height]]) if crop is None else crop
    content = box if crop is None else box.padded(-PAD_INCHES)
    if content.x0 < 0 or content.y0 < 0 or content.x1 > width or content.y1 > height:
        return None
    pixels_high = round(height * DPI)
    return (round(box.x0 * DPI), pixels_high - round(box.y1 * DPI),
            round(box.x1 * DPI), pixels_high - round(box.y0 * DPI))


def _cut(
    rendered: np.ndarray, box: tuple[int, int, int, int], background: tuple[float, ...]
) -> np.ndarray:
    """The ``box`` (left, top, right, bottom) of the rendered RGBA pixels, its part outside
    them filled with ``background`` (RGBA, 0..1)."""
    left, top, right, bottom = box
    if left >= 0 and top >= 0 and bottom <= rendered.shape[0] and right <= rendered.shape[1]:
        return rendered[top:bottom, left:right]
    page = np.empty((bottom - top, right - left, 4), np.uint8)
    page[:] = np.round(np.asarray(background) * 255).astype(np.uint8)
    rows = slice(max(top, 0), min(bottom, rendered.shape[0]))
    columns = slice(max(left, 0), min(right, rendered.shape[1]))
    page[rows.start - top:rows.stop - top, columns.start - left:columns.stop - left] = (
        rendered[rows, columns]
    )
    return page


def content_box(figure: Figure) -> Bbox:
    """The part of ``figure`` that ``bbox_inches="tight"`` keeps, widened to the figure's whole
    width: computed once for a figure redrawn for many images (its titles may grow a little)."""
    tight = figure.get_tightbbox(figure.canvas.get_renderer()).padded(PAD_INCHES)
    return Bbox([[min(tight.x0, 0.0), tight.y0], [max(tight.x1, figure.get_figwidth()), tight.y1]])


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
