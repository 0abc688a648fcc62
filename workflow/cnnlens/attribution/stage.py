"""The stage's two computations, as the scripts call them: the selected test images explained
for their predicted class and runner-up, and the deletion curves of the first test images."""

from __future__ import annotations

import keras
import numpy as np

from cnnlens.attribution import images as imaging
from cnnlens.attribution.deletion import deletion_curves
from cnnlens.attribution.methods import Attributor
from cnnlens.attribution.records import ROLES, SelectedAttributions, explained_classes
from cnnlens.attribution.scores import (
    ClassScores,
    class_probabilities,
    logits_of,
    probabilities_of,
)
from cnnlens.model import describe
from cnnlens.preprocessing import Preprocessing
from cnnlens.settings import Attribution


def attributor_for(
    model: keras.Model,
    layer: str,
    settings: Attribution,
    preprocessing: Preprocessing,
    seed: int,
) -> Attributor:
    """The methods on ``model``, Grad-CAM on its conv layer ``layer``."""
    described = describe(model).require_conv(layer, "the attribution stage's layer")
    return Attributor(ClassScores(model, layer), described, settings, preprocessing, seed)


def explain_selected(
    attributor: Attributor, images: np.ndarray, indices: np.ndarray, labels: np.ndarray
) -> SelectedAttributions:
    """Every method for each image's predicted class and runner-up, in one pass of all
    images and both classes."""
    count = len(images)
    probabilities = probabilities_of(attributor.scores, images)
    classes = explained_classes(probabilities)
    stacked = np.concatenate([images] * len(ROLES))
    result = attributor.attribute(stacked, classes.T.reshape(-1))

    def per_image(values: np.ndarray) -> np.ndarray:  # (2 N, ...) -> (N, 2, ...)
        return np.swapaxes(values.reshape(len(ROLES), count, *values.shape[1:]), 0, 1)

    return SelectedAttributions(
        layer=attributor.scores.layer,
        indices=np.asarray(indices, np.int64),
        labels=np.asarray(labels, np.int64),
        images=np.asarray(images, np.float32),
        classes=classes,
        probabilities=probabilities.astype(np.float32),
        relevance={name: per_image(values) for name, values in result.relevance.items()},
        map_scores=per_image(result.map_scores),
    )


def deletion_study(
    attributor: Attributor, images: np.ndarray, step: float, seed: int
) -> dict[str, np.ndarray]:
    """Per method and ``random``: the probability (F, N) of each image's predicted class as
    its most relevant pixels are set to the black baseline."""
    scores = attributor.scores
    classes = logits_of(scores, images).argmax(axis=1).astype(np.int32)
    result = attributor.attribute(images, classes)
    baseline = imaging.black_baseline(images, attributor.preprocessing)

    def probability(batch: np.ndarray, batch_classes: np.ndarray) -> np.ndarray:
        return class_probabilities(scores, batch, batch_classes)

    rng = np.random.default_rng([seed, len(images)])
    return deletion_curves(probability, images, baseline, classes, result.relevance, step, rng)
