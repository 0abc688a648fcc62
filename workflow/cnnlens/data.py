"""The standardised MNIST splits: how they are made, stored and read back.

Six ``.npy`` files in a fixed order (MNIST's own), so that an index into the test set means the
same image in every stage and on every machine:

==================  ======================  ===========================================
file                dtype, shape            content
==================  ======================  ===========================================
train_imgs.npy      float32 (N, 28, 28, 1)  training images, standardised per image
test_imgs.npy       float32 (M, 28, 28, 1)  test images, standardised per image
train_labels.npy    float32 (N, 10)         one-hot training labels
test_labels.npy     float32 (M, 10)         one-hot test labels
y_train.npy         uint8 (N,)              integer training labels
y_test.npy          uint8 (M,)              integer test labels
==================  ======================  ===========================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from cnnlens.errors import CnnLensError
from cnnlens.files import save_array
from cnnlens.mnist import ARRAY_SHA256, Mnist

NUM_CLASSES = 10
STD_FLOOR = 1e-6

SPLIT_FILES = ("train_imgs", "test_imgs", "train_labels", "test_labels", "y_train", "y_test")


@dataclass(frozen=True)
class Splits:
    """The six arrays of the standardised data set."""

    train_imgs: np.ndarray
    test_imgs: np.ndarray
    train_labels: np.ndarray
    test_labels: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays by file stem."""
        return {name: getattr(self, name) for name in SPLIT_FILES}


def standardise_images(images: np.ndarray) -> np.ndarray:
    """Standardise each image to zero mean and unit variance over its pixels.

    Accepts (N, H, W) or (N, H, W, C) arrays of any numeric type and returns float32 of the
    same shape. Per-image standardisation is what the OIP search applies after every step, so
    training and OIP search see inputs of the same scale. A constant image becomes all zeros.
    """
    values = np.asarray(images, dtype=np.float32)
    axes = tuple(range(1, values.ndim))
    mean = values.mean(axis=axes, keepdims=True)
    std = values.std(axis=axes, keepdims=True)
    return ((values - mean) / np.maximum(std, STD_FLOOR)).astype(np.float32)


def one_hot(labels: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """One-hot float32 encoding of integer labels."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    return np.eye(num_classes, dtype=np.float32)[labels]


def first_n(array: np.ndarray, limit: int | None) -> np.ndarray:
    """The first ``limit`` entries of ``array`` (all of them when ``limit`` is None)."""
    if limit is None:
        return array
    if limit > len(array):
        raise CnnLensError(
            f"subset of {limit} images asked for, but the split has only {len(array)}; "
            "lower data.subset in config.yaml"
        )
    return array[:limit]


def make_splits(
    mnist: Mnist, train_limit: int | None = None, test_limit: int | None = None
) -> Splits:
    """Standardise images and encode labels, keeping MNIST's order (optionally the first N)."""
    train_images = first_n(mnist.train_images, train_limit)
    test_images = first_n(mnist.test_images, test_limit)
    y_train = first_n(mnist.train_labels, train_limit).astype(np.uint8)
    y_test = first_n(mnist.test_labels, test_limit).astype(np.uint8)
    return Splits(
        train_imgs=standardise_images(train_images)[..., np.newaxis],
        test_imgs=standardise_images(test_images)[..., np.newaxis],
        train_labels=one_hot(y_train),
        test_labels=one_hot(y_test),
        y_train=y_train,
        y_test=y_test,
    )


def save_splits(splits: Splits, paths: dict[str, str | os.PathLike]) -> None:
    """Save each array to the path given for its file stem."""
    for name, array in splits.arrays().items():
        save_array(paths[name], array)


def label_counts(labels: np.ndarray) -> list[int]:
    """How many labels of each class 0..9."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=NUM_CLASSES).tolist()


def describe_splits(splits: Splits, route: str) -> dict[str, object]:
    """A provenance record of the saved splits: route, shapes, label counts, checksums."""
    return {
        "source_route": route,
        "verified_sha256": ARRAY_SHA256,
        "order": "MNIST's original order; the first N images when a subset is configured",
        "standardisation": "per image: zero mean, unit variance over the 784 pixels",
        "shapes": {name: list(array.shape) for name, array in splits.arrays().items()},
        "train_label_counts": label_counts(splits.y_train),
        "test_label_counts": label_counts(splits.y_test),
    }
