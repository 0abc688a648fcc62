"""The prepared splits: standardisation, label encoding, the split layout and the manifest."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlens import data, preprocessing, raw_data
from cnnlens.errors import CnnLensError
from cnnlens.raw_data import RawData


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


def test_standardisation_has_one_implementation() -> None:
    assert data.standardise_images is preprocessing.standardise


def test_one_hot() -> None:
    encoded = data.one_hot(np.array([0, 3, 9]), 12)
    assert encoded.dtype == np.float32 and encoded.shape == (3, 12)
    np.testing.assert_array_equal(encoded.argmax(axis=1), [0, 3, 9])
    assert encoded.sum() == 3
    assert data.one_hot(np.array([0, 3])).shape == (2, 4)
    with pytest.raises(ValueError):
        data.one_hot(np.array([10]), 10)


def fake_data(shape: tuple[int, ...] = (28, 28), classes: int = 10) -> RawData:
    rng = np.random.default_rng(3)
    return RawData(
        train_images=rng.integers(0, 256, (20, *shape), dtype=np.uint8),
        train_labels=rng.integers(0, classes, 20),
        test_images=rng.integers(0, 256, (8, *shape), dtype=np.uint8),
        test_labels=rng.integers(0, classes, 8),
        route="fake",
    )


STANDARDISE = preprocessing.Preprocessing("standardise")


def test_splits_keep_order_and_take_the_first_n() -> None:
    source = fake_data()
    splits = data.make_splits(source, STANDARDISE, 10, train_limit=12, test_limit=None)
    assert splits.train_imgs.shape == (12, 28, 28, 1)
    assert splits.test_imgs.shape == (8, 28, 28, 1)
    assert splits.y_train.dtype == np.uint8
    np.testing.assert_array_equal(splits.y_train, source.train_labels[:12])
    np.testing.assert_array_equal(splits.train_labels.argmax(axis=1), splits.y_train)
    np.testing.assert_allclose(
        splits.test_imgs[5, ..., 0], data.standardise_images(source.test_images[5:6])[0]
    )


def test_colour_splits_with_unit_range_and_one_column_per_class() -> None:
    source = fake_data(shape=(9, 7, 3), classes=3)
    unit = preprocessing.fit("unit", source.train_images)
    splits = data.make_splits(source, unit, 5)
    assert splits.train_imgs.shape == (20, 9, 7, 3) and splits.train_imgs.dtype == np.float32
    assert splits.test_labels.shape == (8, 5)
    np.testing.assert_allclose(splits.test_imgs, source.test_images / 255.0, atol=1e-6)


def test_many_classes_get_wider_integer_labels() -> None:
    assert data.label_dtype(256) == np.uint8
    assert data.label_dtype(257) == np.uint16


def test_a_subset_larger_than_the_split_is_refused() -> None:
    with pytest.raises(CnnLensError, match="lower data.subset"):
        data.make_splits(fake_data(), STANDARDISE, 10, train_limit=21)


def test_label_counts() -> None:
    assert data.label_counts(np.array([0, 0, 2]), 4) == [2, 0, 1, 0]


def test_manifest_records_route_digests_counts_and_preprocessing() -> None:
    source = fake_data(classes=3)
    unit = preprocessing.fit("unit", source.train_images)
    splits = data.make_splits(source, unit, 3, test_limit=6)
    names = ("cat", "dog", "eel")
    manifest = data.describe(source, splits, "npz", names, unit, {"train": None, "test": 6})
    assert manifest["dataset"] == "npz" and manifest["source_route"] == "fake"
    assert manifest["sha256"]["test_images"] == raw_data.array_sha256(source.test_images)
    assert manifest["sha256_verified"] is False
    assert manifest["class_names"] == list(names)
    expected = np.bincount(source.test_labels[:6], minlength=3).tolist()
    assert manifest["test_label_counts"] == expected
    assert manifest["label_counts"]["test"] == dict(zip(names, expected, strict=True))
    assert manifest["shapes"]["test_imgs"] == [6, 28, 28, 1]
    assert manifest["subset"] == {"train": None, "test": 6}
    assert preprocessing.Preprocessing.from_record(manifest["preprocessing"]) == unit


def test_overview_images_keep_grey_or_colour_and_the_fixed_range() -> None:
    from cnnlens.plotting.data import displayable

    grey, grey_range = displayable(np.linspace(-2, 3, 12, dtype=np.float32).reshape(3, 4, 1), None)
    assert grey.shape == (3, 4) and grey_range == (-2.0, 3.0)
    colour = np.zeros((2, 2, 3), np.float32)
    colour[0, 0] = (0.5, 0.25, 0.0)
    shown, shown_range = displayable(colour, (0.0, 1.0))
    assert shown.shape == (2, 2, 3) and shown_range == (0.0, 1.0)
    np.testing.assert_allclose(shown[0, 0], (0.5, 0.25, 0.0))  # true colour, not stretched
    stretched, _ = displayable(colour, None)
    np.testing.assert_allclose(stretched[0, 0], (1.0, 0.5, 0.0))
