"""Figures of the training stage: learning curves and the confusion matrix."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from cnnlens.plotting.figures import plt, save_figure


def plot_training_curves(history: Sequence[dict[str, float]], path: str | os.PathLike) -> None:
    """Loss, accuracy and learning rate per epoch, training and validation."""
    epochs = [row["epoch"] for row in history]
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for axis, metric in zip(axes[:2], ("loss", "accuracy")):
        axis.plot(epochs, [row[metric] for row in history], marker="o", label="training")
        if history and f"val_{metric}" in history[0]:
            axis.plot(
                epochs, [row[f"val_{metric}"] for row in history], marker="o", label="validation"
            )
        axis.set(xlabel="epoch", ylabel=metric, title=metric)
        axis.grid(alpha=0.3)
        axis.legend()
    axes[2].plot(epochs, [row["learning_rate"] for row in history], marker="o")
    axes[2].set(xlabel="epoch", ylabel="learning rate", title="learning rate (end of epoch)")
    axes[2].grid(alpha=0.3)
    figure.tight_layout()
    save_figure(figure, path)


def plot_confusion(
    confusion: np.ndarray,
    accuracy: float,
    path: str | os.PathLike,
    class_names: Sequence[str] | None = None,
) -> None:
    """The test-set confusion matrix with counts, the classes named on the axes; the diagonal
    is greyed out for contrast."""
    classes = confusion.shape[0]
    names = [str(name) for name in class_names] if class_names else [str(k) for k in range(classes)]
    errors = confusion.astype(float).copy()
    np.fill_diagonal(errors, np.nan)
    side = max(6.4, 0.45 * classes + 1.9)
    figure, axis = plt.subplots(figsize=(side, side * 0.875))
    # from 0 errors up (a perfect model's off-diagonal zeros stay white, not mid-scale)
    image = axis.imshow(errors, cmap="Reds", vmin=0, vmax=max(1.0, float(np.nanmax(errors))))
    for true in range(classes):
        for predicted in range(classes):
            count = confusion[true, predicted]
            colour = "grey" if true == predicted else "black"
            axis.text(
                predicted, true, str(count), ha="center", va="center", fontsize=7, color=colour
            )
    axis.set(
        xticks=range(classes),
        yticks=range(classes),
        xlabel="predicted class",
        ylabel="true class",
        title=f"test confusion (accuracy {accuracy:.4f}); colour: errors",
    )
    slanted = max(len(name) for name in names) > 2
    axis.set_xticklabels(names, rotation=45 if slanted else 0, ha="right" if slanted else "center")
    axis.set_yticklabels(names)
    figure.colorbar(image, ax=axis, label="misclassified images")
    save_figure(figure, path)
