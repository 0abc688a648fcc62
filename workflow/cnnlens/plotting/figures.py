"""What every figure shares: the Agg backend, atomic saving, and colour maps by name."""

from __future__ import annotations

import os

import matplotlib

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
