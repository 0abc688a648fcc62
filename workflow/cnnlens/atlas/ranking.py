"""Which test images drive each unit most, and how a unit responds to each class (NumPy).

A unit is one map of a conv layer or one node of a dense layer. Its *activation* on an image
is its mean over positions (conv maps) or its value (dense nodes; for the last layer the
class's logit, before the softmax); its *best position* value is its largest value over
positions. Rankings are by value, highest first; ties go to the lower test index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassProfile:
    """Per unit and class: the mean activation, and the share of images it fires on (> 0)."""

    mean: np.ndarray  # (units, classes)
    firing: np.ndarray  # (units, classes)


def top_indices(values: np.ndarray, k: int) -> np.ndarray:
    """(units, k) indices of the ``k`` images with the highest ``values`` (N, units) per unit,
    highest first; equal values in increasing image order."""
    count, units = values.shape
    k = min(k, count)
    order = np.empty((units, k), np.int64)
    images = np.arange(count)
    for unit in range(units):
        # lexsort: the last key sorts first; -value descending, then the index ascending
        order[unit] = np.lexsort((images, -values[:, unit].astype(np.float64)))[:k]
    return order


def class_profile(values: np.ndarray, labels: np.ndarray, classes: int) -> ClassProfile:
    """Mean activation and firing share of every unit (values (N, units)) per class."""
    units = values.shape[1]
    mean = np.zeros((units, classes), np.float32)
    firing = np.zeros((units, classes), np.float32)
    for class_label in range(classes):
        members = values[labels == class_label]
        if len(members):
            mean[:, class_label] = members.mean(axis=0)
            firing[:, class_label] = (members > 0).mean(axis=0)
    return ClassProfile(mean, firing)


def most_active(values: np.ndarray, k: int) -> np.ndarray:
    """(k,) the units with the highest ``values`` (units,) for one image, highest first."""
    units = np.arange(len(values))
    return np.lexsort((units, -values.astype(np.float64)))[: min(k, len(values))]
