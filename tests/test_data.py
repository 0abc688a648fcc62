"""Standardisation, label encoding and the split layout."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlens import data
from cnnlens.errors import CnnLensError
from cnnlens.mnist import Mnist


def test_standardise_gives_zero_mean_unit_variance_per_image() -> None:
    images = np.random.default_rng(1).integers(0, 256, (4, 28, 28)).astype(np.uint8)
    standardised = data.standardise_images(images)
    assert standardised.dtype == np.float32
    np.testing.assert_allclose(standardised.mean(axis=(1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(standardised.std(axis=(1, 2)), 1, atol=1e-4)


def test_standardise_is_per_image_and_scale_free() -> None:
    image = np.random.default_rng(2).random((1, 28, 28))
    np.testing.assert_allclose(
        data.standardise_images(image), data.standardise_images(image * 7 + 3), atol=1e-5
    )


def test_constant_image_becomes_zeros() -> None:
    assert not data.standardise_images(np.full((1, 28, 28), 9)).any()


def test_one_hot() -> None:
    encoded = data.one_hot(np.array([0, 3, 9]))
    assert encoded.dtype == np.float32 and encoded.shape == (3, 10)
    np.testing.assert_array_equal(encoded.argmax(axis=1), [0, 3, 9])
    assert encoded.sum() == 3
    with pytest.raises(ValueError):
        data.one_hot(np.array([10]))


def fake_mnist() -> Mnist:
    rng = np.random.default_rng(3)
    return Mnist(
        train_images=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        train_labels=rng.integers(0, 10, 20, dtype=np.uint8),
        test_images=rng.integers(0, 256, (8, 28, 28), dtype=np.uint8),
        test_labels=rng.integers(0, 10, 8, dtype=np.uint8),
        route="fake",
    )


def test_splits_keep_order_and_take_the_first_n() -> None:
    source = fake_mnist()
    splits = data.make_splits(source, train_limit=12, test_limit=None)
    assert splits.train_imgs.shape == (12, 28, 28, 1)
    assert splits.test_imgs.shape == (8, 28, 28, 1)
    np.testing.assert_array_equal(splits.y_train, source.train_labels[:12])
    np.testing.assert_array_equal(splits.train_labels.argmax(axis=1), splits.y_train)
    np.testing.assert_allclose(
        splits.test_imgs[5, ..., 0], data.standardise_images(source.test_images[5:6])[0]
    )


def test_a_subset_larger_than_the_split_is_refused() -> None:
    with pytest.raises(CnnLensError, match="lower data.subset"):
        data.make_splits(fake_mnist(), train_limit=21)


def test_label_counts() -> None:
    assert data.label_counts(np.array([0, 0, 9])) == [2, 0, 0, 0, 0, 0, 0, 0, 0, 1]
