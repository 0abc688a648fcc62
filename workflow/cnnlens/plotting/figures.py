"""What every figure shares: the Agg backend, atomic saving, and colour maps by name."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import Colormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cnnlens.errors import CnnLensError  # noqa: E402
from cnnlens.files import atomic_path  # noqa: E402

DPI = 120


def save_figure(figure: Figure, path: str | os.PathLike) -> None:
    """Save ``figure`` atomically and release its memory."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=DPI, bbox_inches="tight")
    plt.close(figure)


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
