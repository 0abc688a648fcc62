"""Figures of the data stage: sample images of each class, labelled with the class names, and
the label counts (grey images dark on light, colour images in colour)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from cnnlens.data import Splits, label_counts
from cnnlens.plotting.figures import plt, save_figure

SAMPLES_PER_CLASS = 10
MAX_CLASS_ROWS = 20  # more classes: the first ones are shown, the title says so
MAX_NAMED_BARS = 40  # more classes: the bars are not named one by one
ROW_HEIGHT_INCHES = 0.7
MARGIN_INCHES = 1.5
COUNT_COLUMNS = 7

Range = tuple[float, float] | None


def first_indices_per_class(labels: np.ndarray, classes: int, count: int) -> list[np.ndarray]:
    """For each class, the indices of its first ``count`` members (in the split's order)."""
    return [np.flatnonzero(labels == label)[:count] for label in range(classes)]


def displayable(image: np.ndarray, value_range: Range) -> tuple[np.ndarray, Range]:
    """A prepared image (H, W, C) for ``imshow`` and the range to draw it in: the inputs' fixed
    range when there is one, else the image's own minimum and maximum (grey as (H, W), colour
    scaled to [0, 1])."""
    low, high = value_range or (float(image.min()), float(image.max()))
    if image.shape[-1] == 1:
        return image[..., 0], (low, high)
    span = high - low if high > low else 1.0
    return np.clip((image - low) / span, 0.0, 1.0), (0.0, 1.0)


def draw_samples(
    figure, grid, splits: Splits, class_names: Sequence[str], rows: int, value_range: Range
) -> None:
    """One row per class: its name, then its first test images with their test indices."""
    per_class = first_indices_per_class(splits.y_test, rows, SAMPLES_PER_CLASS)
    for label, indices in enumerate(per_class):
        for column in range(max(len(indices), 1)):
            axis = figure.add_subplot(grid[label, column])
            axis.set_xticks([])
            axis.set_yticks([])
            if column == 0:
                axis.set_ylabel(class_names[label], rotation=0, ha="right", va="center")
            if column >= len(indices):
                axis.set_frame_on(False)
                continue
            index = indices[column]
            image, (low, high) = displayable(splits.test_imgs[index], value_range)
            axis.imshow(image, cmap="gray_r", vmin=low, vmax=high)
            axis.set_xlabel(str(index), fontsize=6, labelpad=1)


def draw_counts(axis, splits: Splits, class_names: Sequence[str]) -> None:
    """Horizontal bars of the training and test label counts, one pair per class."""
    classes = np.arange(len(class_names))
    for offset, name in ((-0.2, "train"), (0.2, "test")):
        labels = getattr(splits, f"y_{name}")
        counts = label_counts(labels, len(class_names))
        axis.barh(classes + offset, counts, height=0.4, label=f"{name} ({len(labels)})")
    if len(class_names) <= MAX_NAMED_BARS:
        axis.set_yticks(classes, class_names)
    axis.invert_yaxis()
    axis.set(xlabel="images", title="label counts")
    # below the x label, whatever the axis' height (the pad is in font sizes)
    axis.legend(
        loc="upper center", bbox_to_anchor=(0.5, 0), borderaxespad=3.2, ncol=2, frameon=False
    )


def plot_data_overview(
    splits: Splits,
    class_names: Sequence[str],
    path: str | os.PathLike,
    value_range: Range = None,
) -> None:
    """The first test images of every class (with their test indices) and both label counts.
    ``value_range``: the prepared inputs' fixed (low, high), or None to scale each image to its
    own range (standardised inputs)."""
    rows = min(len(class_names), MAX_CLASS_ROWS)
    height = max(4.0, MARGIN_INCHES + ROW_HEIGHT_INCHES * rows)
    figure = plt.figure(figsize=(13, height))
    columns = SAMPLES_PER_CLASS + COUNT_COLUMNS
    grid = figure.add_gridspec(rows, columns, wspace=0.05, hspace=0.45, left=0.12)
    draw_samples(figure, grid, splits, class_names, rows, value_range)
    counts_rows = slice(1, -1) if rows > 4 else slice(0, rows)
    counts_axis = figure.add_subplot(grid[counts_rows, SAMPLES_PER_CLASS + 3 :])
    draw_counts(counts_axis, splits, class_names)
    shown = f" (the first {rows} of {len(class_names)} classes)" if rows < len(class_names) else ""
    figure.suptitle(f"First test images of each class{shown} (test index below each image)")
    save_figure(figure, path)
