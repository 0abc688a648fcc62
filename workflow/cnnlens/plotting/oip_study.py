"""Figures of the OIP study: the variants' scores per layer, a few maps' OIPs per variant, and
the hand series' evolution. They draw what the stage wrote; nothing here computes data.

Grey images are drawn with the OIP colour map over the model's input range, as the OIP
figures do (:mod:`cnnlens.plotting.oip`); colour images each scaled to 0..1.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes

from cnnlens.oip_study.records import HandSeries
from cnnlens.oip_study.scores import SCORES
from cnnlens.plotting.figures import plt, resolve_colormap, save_figure
from cnnlens.plotting.oip import COLORMAP_SETTING, DISPLAY_RANGE, Range, colour_mosaic
from cnnlens.resolution import spread
from cnnlens.tiles import tile_mosaic

SCORE_TITLES = {
    "zero_starts": "starts at exactly 0 (share)",
    "objective_over_test": "OIP / best test image (median)",
    "beats_test": "OIP beats every test image (share)",
    "restart_similarity": "restart similarity (median)",
    "shifted_similarity": "shifted similarity (median)",
    "dead": "dead maps",
    "seconds": "search time (s)",
}


def draw_images(
    axis: Axes, images: np.ndarray, columns: int, colormap: str, display_range: Range
) -> None:
    """Images (N, H, W, C) as one mosaic, ``columns`` per row, 1-pixel gaps: grey ones over
    ``display_range`` with ``colormap``, colour ones each scaled to 0..1."""
    if images.shape[-1] == 3:
        axis.imshow(colour_mosaic(images, columns))
    else:
        axis.imshow(
            tile_mosaic(np.clip(images[..., 0], *display_range), columns=columns),
            cmap=resolve_colormap(colormap, COLORMAP_SETTING, bad="white"),
            vmin=display_range[0],
            vmax=display_range[1],
        )
    axis.set_xticks([])
    axis.set_yticks([])


def score_values(rows: Sequence[Mapping[str, str]], layer: str, score: str, variants) -> list:
    """The ``score`` of each variant on ``layer`` (NaN where empty)."""
    table = {row["variant"]: row[score] for row in rows if row["layer"] == layer}
    return [float(table[variant]) if table[variant] != "" else math.nan for variant in variants]


def plot_summary(rows: Sequence[Mapping[str, str]], path: str | os.PathLike) -> None:
    """One panel per score: a group of bars per layer, a bar per variant."""
    layers = list(dict.fromkeys(row["layer"] for row in rows))
    variants = list(dict.fromkeys(row["variant"] for row in rows))
    columns = 4
    figure, axes = plt.subplots(2, columns, figsize=(4.2 * columns, 7.0))
    width = 0.8 / len(variants)
    positions = np.arange(len(layers))
    colours = plt.get_cmap("tab10")
    for axis, score in zip(axes.flat, SCORES):
        largest = 0.0
        for index, variant in enumerate(variants):
            values = [score_values(rows, layer, score, [variant])[0] for layer in layers]
            offset = (index - (len(variants) - 1) / 2) * width
            axis.bar(positions + offset, values, width, label=variant, color=colours(index % 10))
            largest = max([largest, *(value for value in values if not math.isnan(value))])
        if largest > 0:
            axis.set_ylim(bottom=0)  # every score counts or measures from 0
        else:  # e.g. no dead map anywhere: say so instead of bars of height 0
            axis.set_ylim(0, 1)
            axis.text(0.5, 0.5, "0 for every layer and variant", transform=axis.transAxes,
                      ha="center", va="center", fontsize=9)
        axis.set_xticks(positions, layers)
        axis.set_title(SCORE_TITLES[score], fontsize=10)
        if score == "objective_over_test":
            axis.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    legend = axes.flat[len(SCORES)]
    legend.set_axis_off()
    handles, labels = axes.flat[0].get_legend_handles_labels()
    legend.legend(handles, labels, title="variant", loc="center")
    maps = {row["layer"]: row["maps"] for row in rows}
    restarts = rows[0]["restarts"]
    figure.suptitle(
        "OIP search variants per layer ("
        + ", ".join(f"{layer}: {count} maps" for layer, count in maps.items())
        + f"; {restarts} restarts each)"
    )
    figure.tight_layout()
    save_figure(figure, path)


def plot_variant_oips(
    layers: Sequence[Mapping[str, np.ndarray]],
    layer_names: Sequence[str],
    path: str | os.PathLike,
    colormap: str = "viridis",
    display_range: Range = DISPLAY_RANGE,
    maps_shown: int = 8,
) -> None:
    """Per layer, a row per variant of the OIPs of ``maps_shown`` maps spread over the layer,
    each labelled with its objective over the best test image's."""
    rows = sum(len(arrays["variants"]) for arrays in layers)
    size = (1.1 * maps_shown + 1.5, 1.1 * rows + 0.9 * len(layers))
    figure, axes = plt.subplots(len(layers), 1, figsize=size, squeeze=False)
    for axis, arrays, layer in zip(axes[:, 0], layers, layer_names):
        chosen = spread(maps_shown, len(arrays["maps"]))
        oips = arrays["oips"][:, chosen]
        if oips.ndim == 4:
            oips = oips[..., np.newaxis]
        variants = [str(name) for name in arrays["variants"]]
        draw_images(axis, oips.reshape(-1, *oips.shape[2:]), len(chosen), colormap, display_range)
        height, width = oips.shape[2:4]
        test_max = arrays["test_max"][chosen]
        ratios = arrays["objectives"][:, chosen] / np.where(test_max > 0, test_max, np.nan)
        for (row, column), ratio in np.ndenumerate(ratios):
            axis.text(
                column * (width + 1) + 0.5,
                row * (height + 1) + 0.5,
                f"{ratio:.2f}x" if np.isfinite(ratio) else "test silent",
                color="white",
                fontsize=6,
                va="top",
                ha="left",
                bbox={"facecolor": "black", "alpha": 0.5, "pad": 0.5, "linewidth": 0},
            )
        axis.set_yticks(np.arange(len(variants)) * (height + 1) + height / 2, variants)
        names = [f"map {int(arrays['maps'][index])}" for index in chosen]
        axis.set_xticks(np.arange(len(chosen)) * (width + 1) + width / 2, names, fontsize=7)
        axis.set_title(f"{layer}: OIP per variant (objective / best test image's)", fontsize=10)
    figure.tight_layout()
    save_figure(figure, path)


def plot_hand(
    series: HandSeries,
    path: str | os.PathLike,
    colormap: str = "viridis",
    display_range: Range = DISPLAY_RANGE,
) -> None:
    """A row per series (noise scale), a column per snapshot step showing every seed's image,
    and the seeds' objective per step, with the best test image's for comparison."""
    steps = series.snapshot_steps
    seeds = series.snapshots.shape[2]
    columns = math.ceil(math.sqrt(seeds))
    size = (1.6 * len(steps) + 3.2, 1.6 * len(series.scales) + 0.8)
    figure, axes = plt.subplots(len(series.scales), len(steps) + 1, figsize=size, squeeze=False)
    for row, scale in enumerate(series.scales):
        for column, step in enumerate(steps):
            axis = axes[row, column]
            draw_images(axis, series.snapshots[column, row], columns, colormap, display_range)
            median = float(np.median(series.history[row, :, step]))
            title = f"step {step}: {median:.3g}" if row == 0 else f"{median:.3g}"
            axis.set_title(title, fontsize=8)
        axes[row, 0].set_ylabel(f"scale {int(scale)}\n({scale}x{scale} cells)", fontsize=8)
        draw_history(axes[row, -1], series.history[row], series.test_max)
    axes[0, -1].set_title("objective per step", fontsize=8)
    figure.suptitle(
        f"{series.layer} map {series.map} from starts of one noise scale per row "
        f"({seeds} seeds each; titles: median objective)"
    )
    figure.tight_layout()
    save_figure(figure, path)


def draw_history(axis: Axes, history: np.ndarray, test_max: float) -> None:
    """Each seed's objective per step, and the map's best test image (dashed)."""
    steps = np.arange(history.shape[1])
    for values in history:
        axis.plot(steps, values, linewidth=0.8)
    if np.isfinite(test_max):
        axis.axhline(test_max, color="black", linewidth=0.8, linestyle="--")
    axis.tick_params(labelsize=6)
