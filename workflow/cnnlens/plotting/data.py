"""Figures of the data stage: sample digits of each class and the label counts."""

from __future__ import annotations

import os

import numpy as np

from cnnlens.data import NUM_CLASSES, Splits, label_counts
from cnnlens.plotting.figures import plt, save_figure

SAMPLES_PER_CLASS = 10


def first_indices_per_class(labels: np.ndarray, count: int) -> list[np.ndarray]:
    """For each class, the indices of its first ``count`` members (in the split's order)."""
    return [np.flatnonzero(labels == digit)[:count] for digit in range(NUM_CLASSES)]


def plot_data_overview(splits: Splits, path: str | os.PathLike) -> None:
    """The first test images of every class (with their test indices) and both label counts."""
    figure = plt.figure(figsize=(12, 7.5))
    grid = figure.add_gridspec(NUM_CLASSES, SAMPLES_PER_CLASS + 7, wspace=0.05, hspace=0.45)
    for digit, indices in enumerate(first_indices_per_class(splits.y_test, SAMPLES_PER_CLASS)):
        for column, index in enumerate(indices):
            axis = figure.add_subplot(grid[digit, column])
            axis.imshow(splits.test_imgs[index, ..., 0], cmap="gray_r")
            axis.set_xticks([])
            axis.set_yticks([])
            axis.set_xlabel(str(index), fontsize=6, labelpad=1)
    counts_axis = figure.add_subplot(grid[1:-1, SAMPLES_PER_CLASS + 2 :])
    classes = np.arange(NUM_CLASSES)
    splits_by_name = (("train", splits.y_train), ("test", splits.y_test))
    for offset, (name, labels) in zip((-0.2, 0.2), splits_by_name):
        counts = label_counts(labels)
        counts_axis.bar(classes + offset, counts, width=0.4, label=f"{name} ({len(labels)})")
    counts_axis.set(xticks=classes, xlabel="class", ylabel="images", title="label counts")
    counts_axis.legend()
    figure.suptitle("First test images of each class (test index below each digit)")
    save_figure(figure, path)
