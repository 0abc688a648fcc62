"""The figure of the trainings comparison: OIPs of maps matched between two runs, side by side.

Each column is one matched pair (run 0 above, run k below), from the best-matched to the
worst; every OIP is stretched to 0..1 on its own (matched maps may fire at different
strengths), grey OIPs through the configured colour map.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cnnlens.plotting.figures import plt, resolve_colormap, save_figure
from cnnlens.plotting.oip import COLORMAP_SETTING, is_colour, to_unit


def oip_label(map_index: int, dead: bool) -> str:
    return f"map {map_index}" + (" (dead)" if dead else "")


def plot_matched_oips(
    layer: str,
    runs: tuple[int, int],
    pairs: Sequence[Mapping[str, Any]],
    oips: tuple[np.ndarray, np.ndarray],
    dead: tuple[np.ndarray, np.ndarray],
    colormap: str,
    path: str | os.PathLike,
) -> None:
    """``pairs`` (rows of the layer's matching: map_a, map_b, r) as columns, the OIP of map_a
    of run ``runs[0]`` (``oips[0]``) above that of map_b of run ``runs[1]`` (``oips[1]``)."""
    cmap = resolve_colormap(colormap, COLORMAP_SETTING)
    figure, axes = plt.subplots(
        2, len(pairs), figsize=(1.45 * len(pairs) + 0.9, 3.8), squeeze=False, layout="constrained"
    )
    for column, pair in enumerate(pairs):
        for row, key in enumerate(("map_a", "map_b")):
            index = int(pair[key])
            image = oips[row][index]
            axis = axes[row, column]
            axis.imshow(to_unit(image), cmap=None if is_colour(image) else cmap, vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
            axis.set_xlabel(oip_label(index, bool(dead[row][index])), fontsize=8)
        axes[0, column].set_title(f"r = {float(pair['r']):.3f}", fontsize=9)
    for row, run in enumerate(runs):
        axes[row, 0].set_ylabel(f"run {run}", fontsize=10)
    figure.suptitle(
        f"{layer}: OIPs of maps matched between run {runs[0]} and run {runs[1]}, "
        "best-matched to worst",
        fontsize=10,
    )
    save_figure(figure, path)
