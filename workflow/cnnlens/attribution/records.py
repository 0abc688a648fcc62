"""The attributions of the selected test images, saved as one ``.npz`` for the figure jobs,
and the names of the methods. NumPy only.

For each selected image two classes are explained: the predicted class (role ``predicted``)
and the runner-up (``runner_up``), the class with the second largest probability.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from cnnlens.files import load_arrays, save_arrays

METHODS = (
    "saliency",
    "smoothgrad",
    "integrated_gradients_black",
    "integrated_gradients_blurred",
    "grad_cam",
)
SIGNED_METHODS = ("integrated_gradients_black", "integrated_gradients_blurred")
RANDOM = "random"
ROLES = ("predicted", "runner_up")
TITLES = {
    "saliency": "gradient saliency",
    "smoothgrad": "SmoothGrad",
    "integrated_gradients_black": "integrated gradients\n(black baseline)",
    "integrated_gradients_blurred": "integrated gradients\n(blurred baseline)",
    "grad_cam": "Grad-CAM",
    RANDOM: "random deletion",
}


@dataclasses.dataclass(frozen=True)
class SelectedAttributions:
    """N selected images (N, H, W, C), their test indices and labels, the two explained
    classes (N, 2), the probabilities (N, classes), each method's relevance (N, 2, H, W), and
    the conv layer's maps' activation x gradient (N, 2, K)."""

    layer: str
    indices: np.ndarray
    labels: np.ndarray
    images: np.ndarray
    classes: np.ndarray
    probabilities: np.ndarray
    relevance: dict[str, np.ndarray]
    map_scores: np.ndarray

    def position(self, index: int) -> int:
        """Where test image ``index`` is among the selected images."""
        found = np.flatnonzero(self.indices == index)
        if not len(found):
            raise KeyError(f"test image {index} is not among the selected images")
        return int(found[0])


def explained_classes(probabilities: np.ndarray) -> np.ndarray:
    """(N, 2): each image's predicted class and runner-up (ties: the lower class first)."""
    order = np.argsort(-np.asarray(probabilities), axis=1, kind="stable")
    return order[:, :2].astype(np.int64)


def save_selected(path: str | os.PathLike, selected: SelectedAttributions) -> None:
    arrays = {
        "layer": np.array(selected.layer),
        "indices": selected.indices,
        "labels": selected.labels,
        "images": selected.images,
        "classes": selected.classes,
        "probabilities": selected.probabilities,
        "map_scores": selected.map_scores,
    }
    arrays.update({f"relevance_{name}": values for name, values in selected.relevance.items()})
    save_arrays(path, arrays)


def load_selected(path: str | os.PathLike) -> SelectedAttributions:
    arrays = load_arrays(path)
    relevance = {name: arrays[f"relevance_{name}"] for name in METHODS}
    return SelectedAttributions(
        layer=str(arrays["layer"]),
        indices=arrays["indices"],
        labels=arrays["labels"],
        images=arrays["images"],
        classes=arrays["classes"],
        probabilities=arrays["probabilities"],
        relevance=relevance,
        map_scores=arrays["map_scores"],
    )
