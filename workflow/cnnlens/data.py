"""The prepared splits of the configured data set: how they are made, stored and described.

Six ``.npy`` files in a fixed order (the data set's own), so that an index into the test set
means the same image in every stage and on every machine. H x W x C is the data set's image
shape (28x28x1 for MNIST and Fashion-MNIST); K is the number of classes (one per model output):

==================  ======================  ===================================================
file                dtype, shape            content
==================  ======================  ===================================================
train_imgs.npy      float32 (N, H, W, C)    training images, prepared (``model.preprocessing``)
test_imgs.npy       float32 (M, H, W, C)    test images, prepared the same way
train_labels.npy    float32 (N, K)          one-hot training labels
test_labels.npy     float32 (M, K)          one-hot test labels
y_train.npy         uint8 (N,)              integer training labels (uint16 when K > 256)
y_test.npy          uint8 (M,)              integer test labels (uint16 when K > 256)
==================  ======================  ===================================================

``manifest.json`` records where the data came from and how it was prepared (see
:func:`describe`); the later stages read the preprocessing back from it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnlens import fashion_mnist, mnist, npz_data, raw_data
from cnnlens.errors import CnnLensError
from cnnlens.files import save_array
from cnnlens.preprocessing import Preprocessing, standardise
from cnnlens.raw_data import RawData
from cnnlens.settings import Data

SPLITS = ("train", "test")
SPLIT_FILES = ("train_imgs", "test_imgs", "train_labels", "test_labels", "y_train", "y_test")

#: Per-image standardisation (one implementation: :func:`cnnlens.preprocessing.standardise`).
standardise_images = standardise

#: The published SHA-256 digests the arrays of each data set are verified against.
VERIFIED_SHA256 = {"mnist": mnist.ARRAY_SHA256, "fashion_mnist": fashion_mnist.ARRAY_SHA256}


@dataclass(frozen=True)
class Splits:
    """The six arrays of the prepared data set."""

    train_imgs: np.ndarray
    test_imgs: np.ndarray
    train_labels: np.ndarray
    test_labels: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays by file stem."""
        return {name: getattr(self, name) for name in SPLIT_FILES}


def obtain(data: Data) -> RawData:
    """The configured data set as read: MNIST and Fashion-MNIST by their first working route
    (verified), a user's ``.npz`` as stored."""
    if data.dataset == "npz":
        return npz_data.load(data.file)
    if data.dataset == "fashion_mnist":
        return fashion_mnist.obtain(data.source_dir, data.download_cache)
    return mnist.obtain(data.source_dir, data.download_cache)


def one_hot(labels: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """One-hot float32 encoding of integer labels (``num_classes`` None: largest label + 1)."""
    labels = np.asarray(labels)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}")
    return np.eye(num_classes, dtype=np.float32)[labels]


def label_dtype(num_classes: int) -> type[np.unsignedinteger]:
    """uint8 for up to 256 classes, uint16 beyond."""
    return np.uint8 if num_classes <= 256 else np.uint16


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
    raw: RawData,
    preparation: Preprocessing,
    num_classes: int,
    train_limit: int | None = None,
    test_limit: int | None = None,
) -> Splits:
    """Prepare images and encode labels, keeping the data set's order (optionally the first
    N of each split)."""
    labels_type = label_dtype(num_classes)
    y_train = first_n(raw.train_labels, train_limit).astype(labels_type)
    y_test = first_n(raw.test_labels, test_limit).astype(labels_type)
    return Splits(
        train_imgs=preparation.apply(first_n(raw.train_images, train_limit)),
        test_imgs=preparation.apply(first_n(raw.test_images, test_limit)),
        train_labels=one_hot(y_train, num_classes),
        test_labels=one_hot(y_test, num_classes),
        y_train=y_train,
        y_test=y_test,
    )


def save_splits(splits: Splits, paths: dict[str, str | os.PathLike]) -> None:
    """Save each array to the path given for its file stem."""
    for name, array in splits.arrays().items():
        save_array(paths[name], array)


def label_counts(labels: np.ndarray, num_classes: int) -> list[int]:
    """How many labels of each class 0..num_classes-1."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes).tolist()


def describe(
    raw: RawData,
    splits: Splits,
    dataset: str,
    class_names: Sequence[str],
    preparation: Preprocessing,
    subset: dict[str, int | None],
) -> dict[str, Any]:
    """The manifest: data set, route, digests, class names, shapes, label counts (by label and
    by class name), the fitted preprocessing and the subset."""
    names = list(class_names)
    counts = {split: label_counts(getattr(splits, f"y_{split}"), len(names)) for split in SPLITS}
    return {
        "dataset": dataset,
        "source_route": raw.route,
        "sha256": raw_data.digests(raw),
        "sha256_verified": dataset in VERIFIED_SHA256,
        "source_shapes": {name: list(array.shape) for name, array in raw.arrays().items()},
        "source_dtypes": {name: str(array.dtype) for name, array in raw.arrays().items()},
        "order": "the data set's own order; the first N images when a subset is configured",
        "subset": dict(subset),
        "class_names": names,
        "preprocessing": preparation.to_record(),
        "shapes": {name: list(array.shape) for name, array in splits.arrays().items()},
        "train_label_counts": counts["train"],
        "test_label_counts": counts["test"],
        "label_counts": {
            split: dict(zip(names, values, strict=True)) for split, values in counts.items()
        },
    }
