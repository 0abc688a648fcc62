"""Figures of the attribution stage: one selected test image with every method for its
predicted class and its runner-up, and the deletion curves of all methods."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes

from cnnlens.attribution.maps import ranked_maps, top_maps_text
from cnnlens.attribution.records import (
    METHODS,
    RANDOM,
    ROLES,
    SIGNED_METHODS,
    TITLES,
    SelectedAttributions,
)
from cnnlens.plotting.figures import plt, save_figure

PANEL_INCHES = 2.0
ROLE_NAMES = {"predicted": "predicted", "runner_up": "runner-up"}


def displayable(image: np.ndarray) -> tuple[np.ndarray, str | None]:
    """An image (H, W, C) scaled to [0, 1] for display, and the colour map (grey for one
    channel, None for colour)."""
    values = np.asarray(image, dtype=np.float64)
    span = values.max() - values.min()
    scaled = (values - values.min()) / span if span > 0 else np.zeros_like(values)
    return (scaled[..., 0], "gray") if scaled.shape[-1] == 1 else (scaled, None)


COLOUR_KEY = (
    "Each panel on its own scale. Saliency, SmoothGrad: |gradient| per pixel, bright = large. "
    "Integrated gradients: red argues for the class, blue against it.\n"
    "Grad-CAM over the image: red = where the last conv layer's maps argue most for the class."
)


def draw_relevance(axis: Axes, method: str, relevance: np.ndarray, image: np.ndarray) -> None:
    """One method's relevance map: signed ones on a diverging scale around 0, Grad-CAM over
    the image in grey, the others from 0 to their largest value."""
    largest = float(np.abs(relevance).max()) or 1.0
    if method in SIGNED_METHODS:
        axis.imshow(relevance, cmap="RdBu_r", vmin=-largest, vmax=largest)
    elif method == "grad_cam":
        shown, _ = displayable(image)
        grey = shown if shown.ndim == 2 else shown.mean(axis=-1)
        axis.imshow(grey, cmap="gray")
        axis.imshow(relevance, cmap="jet", alpha=0.5, vmin=0, vmax=largest)
    else:
        axis.imshow(relevance, cmap="magma", vmin=0, vmax=largest)


def plot_attribution_pages(
    selected: SelectedAttributions,
    class_names: Sequence[str],
    top_maps: int,
    directory: str | os.PathLike,
    oips: Sequence[np.ndarray] = (),
) -> None:
    """``directory/test_{index}.png`` for every selected test image
    (:func:`plot_image_attributions`)."""
    os.makedirs(directory, exist_ok=True)
    for index in selected.indices:
        path = os.path.join(directory, f"test_{index}.png")
        plot_image_attributions(selected, int(index), class_names, top_maps, path, oips)


def plot_image_attributions(
    selected: SelectedAttributions,
    index: int,
    class_names: Sequence[str],
    top_maps: int,
    path: str | os.PathLike,
    oips: Sequence[np.ndarray] = (),
) -> None:
    """Test image ``index``: a row per explained class (predicted, runner-up) with the image
    and every method's relevance; under each, the ``top_maps`` conv maps that argue most for
    the class, as a row of their OIPs (``oips``, one per map) or, without OIPs, as a line."""
    position = selected.position(index)
    rows_per_class = 2 if len(oips) else 1
    columns = max(1 + len(METHODS), 1 + top_maps) if len(oips) else 1 + len(METHODS)
    figure, axes = plt.subplots(
        len(ROLES) * rows_per_class, columns, squeeze=False,
        figsize=(columns * PANEL_INCHES, len(ROLES) * rows_per_class * PANEL_INCHES * 1.3),
    )
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_axis_off()
    for slot in range(len(ROLES)):
        draw_class_row(axes[slot * rows_per_class], selected, position, slot, class_names)
        if len(oips):
            draw_oip_row(axes[slot * rows_per_class + 1], selected, position, slot, top_maps,
                         oips, class_names)
    label = class_names[int(selected.labels[position])]
    figure.suptitle(f"test image {index} (label {label}): what argues for each class", fontsize=10)
    figure.tight_layout(h_pad=2.5 if len(oips) else 3.5)
    if not len(oips):
        for slot in range(len(ROLES)):  # placed after the layout, which they must not widen
            add_map_line(figure, axes[slot, 0], selected, position, slot, top_maps, class_names)
    figure.text(0.5, 0.0, COLOUR_KEY, ha="center", va="top", fontsize=8)  # below the panels
    save_figure(figure, path)


def draw_class_row(
    axes: Sequence[Axes],
    selected: SelectedAttributions,
    position: int,
    slot: int,
    class_names: Sequence[str],
) -> None:
    """The image, titled with the explained class, and every method's relevance for it."""
    image = selected.images[position]
    label = int(selected.classes[position, slot])
    probability = selected.probabilities[position, label]
    shown, colormap = displayable(image)
    axes[0].imshow(shown, cmap=colormap)
    axes[0].set_title(
        f"{ROLE_NAMES[ROLES[slot]]}: {class_names[label]}\np = {probability:.3g}", fontsize=9
    )
    for column, method in enumerate(METHODS, start=1):
        draw_relevance(axes[column], method, selected.relevance[method][position, slot], image)
        axes[column].set_title(TITLES[method], fontsize=8)
    for axis in axes[: 1 + len(METHODS)]:
        axis.set_axis_on()


def draw_oip_row(
    axes: Sequence[Axes],
    selected: SelectedAttributions,
    position: int,
    slot: int,
    top_maps: int,
    oips: Sequence[np.ndarray],
    class_names: Sequence[str],
) -> None:
    """The OIPs of the maps with the largest activation x gradient for the explained class."""
    scores = selected.map_scores[position, slot]
    label = class_names[int(selected.classes[position, slot])]
    axes[0].text(0.5, 0.5, f"{selected.layer} maps\narguing most\nfor {label}\n(activation x "
                 "gradient;\ntheir OIPs)", ha="center", va="center", fontsize=8,
                 transform=axes[0].transAxes)
    for axis, unit in zip(axes[1:], ranked_maps(scores)[:top_maps]):
        oip = np.asarray(oips[unit])
        shown, colormap = displayable(oip[..., np.newaxis] if oip.ndim == 2 else oip)
        axis.imshow(shown, cmap=colormap)
        axis.set_title(f"map {unit}: {scores[unit]:.2f}", fontsize=8)
        axis.set_axis_on()


def add_map_line(
    figure, axis: Axes, selected: SelectedAttributions, position: int, slot: int,
    top_maps: int, class_names: Sequence[str],
) -> None:
    """One line under ``axis``: the maps with the largest activation x gradient, by number."""
    label = class_names[int(selected.classes[position, slot])]
    maps = top_maps_text(selected.map_scores[position, slot], top_maps)
    box = axis.get_position()
    figure.text(box.x0, box.y0 - 0.015, f"{selected.layer}, activation x gradient for {label}: "
                f"{maps}", fontsize=7, va="top")


def plot_deletion_curves(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    areas: Mapping[str, float],
    images: int,
    path: str | os.PathLike,
) -> None:
    """Mean probability of the predicted class against the fraction of pixels deleted, one
    line per method ({method: (fractions, probabilities)}), random deletion dashed."""
    figure, axis = plt.subplots(figsize=(6.5, 4.5))
    for method, (points, probabilities) in curves.items():
        style = {"color": "black", "linestyle": "--"} if method == RANDOM else {}
        name = TITLES.get(method, method).replace("\n", " ")
        axis.plot(points, probabilities, marker=".", label=f"{name} (area {areas[method]:.3f})",
                  **style)
    axis.set_xlabel("fraction of pixels deleted (most attributed first)")
    axis.set_ylabel("mean probability of the predicted class")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1.02)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    axis.set_title(f"Deletion curves over {images} test images", fontsize=10)
    save_figure(figure, path)
