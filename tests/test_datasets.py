"""The data sets besides MNIST: Fashion-MNIST's routes and verification, a user's ``.npz``, the
facts the plan reads before any job, and the data faults through the real ``snakemake``
command (one line, no traceback, no job run)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import Workspace, make_workspace
from test_faults import assert_one_line_error
from test_mnist import small_mnist_directory

from cnnlens import data, datasets, fashion_mnist, npz_data, preprocessing, raw_data
from cnnlens.errors import CnnLensError
from cnnlens.settings import Data, Subset

DEFAULT_CACHE = "~/.cache/cnnlens"


def data_settings(**changes) -> Data:
    values = {
        "dataset": "mnist",
        "source_dir": None,
        "file": None,
        "class_names": None,
        "download_cache": DEFAULT_CACHE,
        "subset": Subset(train=None, test=None),
    }
    return Data(**{**values, **changes})


# ---- Fashion-MNIST ----


def test_fashion_from_a_source_dir_is_verified(tmp_path: Path, monkeypatch) -> None:
    arrays = small_mnist_directory(tmp_path, compress=True)
    with pytest.raises(CnnLensError) as raised:
        fashion_mnist.obtain(str(tmp_path), cache_dir=str(tmp_path / "cache"))
    message = str(raised.value)
    assert "is not the real Fashion-MNIST" in message and "\n" not in message
    assert fashion_mnist.ARRAY_SHA256["train_images"] in message
    assert "data.source_dir" in message
    digests = {name: raw_data.array_sha256(array) for name, array in arrays.items()}
    monkeypatch.setattr(fashion_mnist, "ARRAY_SHA256", digests)
    loaded = fashion_mnist.obtain(str(tmp_path), cache_dir=str(tmp_path / "cache"))
    np.testing.assert_array_equal(loaded.test_images, arrays["test_images"])
    assert loaded.route == f"IDX files in {tmp_path}"


def test_fashion_source_dir_without_the_files_stops(tmp_path: Path) -> None:
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"x")
    with pytest.raises(CnnLensError, match="lacks the Fashion-MNIST IDX files") as raised:
        fashion_mnist.obtain(str(tmp_path), cache_dir=str(tmp_path / "cache"))
    assert "t10k-labels-idx1-ubyte" in str(raised.value)
    assert "train-images-idx3-ubyte," not in str(raised.value)


def test_a_fashion_source_dir_that_is_no_directory_stops(tmp_path: Path) -> None:
    with pytest.raises(CnnLensError, match="is not a directory; fix data.source_dir"):
        datasets.facts(data_settings(dataset="fashion_mnist", source_dir=str(tmp_path / "no")))


def test_the_unpacked_package_is_reused(tmp_path: Path, monkeypatch) -> None:
    directory = fashion_mnist.package_directory(tmp_path)
    directory.mkdir(parents=True)
    small_mnist_directory(directory, compress=True)

    def no_download(*arguments, **keywords):
        raise AssertionError("the package was downloaded again")

    monkeypatch.setattr(fashion_mnist, "run_tool", no_download)
    loaded = fashion_mnist.from_debian_package(tmp_path)
    assert "Debian package dataset-fashion-mnist" in loaded.route
    assert fashion_mnist.is_cached(tmp_path)


def test_without_apt_get_the_error_says_how_to_supply_the_files(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    for check in (
        lambda: fashion_mnist.check_package_route(tmp_path / "cache"),
        lambda: fashion_mnist.obtain(None, str(tmp_path / "cache")),
    ):
        with pytest.raises(CnnLensError) as raised:
            check()
        message = str(raised.value)
        assert "apt-get" in message and "data.source_dir" in message and "\n" not in message
    assert not (tmp_path / "cache" / fashion_mnist.CACHE_NAME).exists()


def test_a_failing_apt_get_is_one_line(tmp_path: Path, monkeypatch) -> None:
    programs = tmp_path / "bin"
    programs.mkdir()
    fake = programs / "apt-get"
    fake.write_text(
        "#!/bin/sh\necho 'E: Unable to locate package dataset-fashion-mnist' >&2\nexit 100\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(programs))
    with pytest.raises(CnnLensError) as raised:
        fashion_mnist.obtain(None, str(tmp_path / "cache"))
    message = str(raised.value)
    assert "Unable to locate package" in message and "data.source_dir" in message


def test_fashion_facts_are_the_published_ones(tmp_path: Path) -> None:
    small_mnist_directory(tmp_path, compress=True)
    facts = datasets.facts(data_settings(dataset="fashion_mnist", source_dir=str(tmp_path)))
    assert facts.image_shape == (28, 28, 1)
    assert (facts.train_size, facts.test_size) == (60_000, 10_000)
    assert facts.class_names[0] == "T-shirt/top" and facts.class_names[-1] == "Ankle boot"


# ---- a user's .npz ----


def write_npz(path: Path, **changes) -> dict[str, np.ndarray]:
    """A small valid .npz: 12 + 5 grey 10x8 uint8 images of 3 classes, with ``changes``."""
    rng = np.random.default_rng(7)
    arrays = {
        "x_train": rng.integers(0, 256, (12, 10, 8), dtype=np.uint8),
        "y_train": np.arange(12) % 3,
        "x_test": rng.integers(0, 256, (5, 10, 8), dtype=np.uint8),
        "y_test": np.arange(5) % 3,
    }
    arrays.update(changes)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return arrays


def test_grey_uint8_npz_without_a_channel_axis(tmp_path: Path) -> None:
    arrays = write_npz(tmp_path / "grey.npz")
    settings = data_settings(dataset="npz", file=str(tmp_path / "grey.npz"))
    facts = datasets.facts(settings)
    assert facts.image_shape == (10, 8, 1) and facts.label_count == 3
    assert (facts.train_size, facts.test_size) == (12, 5)
    assert facts.names_for(3) == ("0", "1", "2")
    raw = data.obtain(settings)
    splits = data.make_splits(raw, preprocessing.fit("standardise", raw.train_images), 3)
    assert splits.test_imgs.shape == (5, 10, 8, 1)
    np.testing.assert_array_equal(splits.y_test, arrays["y_test"])
    assert raw_data.digests(raw)["train_images"] == raw_data.array_sha256(arrays["x_train"])


def test_colour_float_npz_keeps_its_channels_and_names(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    images = rng.random((12, 6, 6, 3)).astype(np.float32)
    write_npz(tmp_path / "colour.npz", x_train=images, x_test=images[:5])
    settings = data_settings(
        dataset="npz", file=str(tmp_path / "colour.npz"), class_names=("red", "green", "blue")
    )
    facts = datasets.facts(settings)
    assert facts.image_shape == (6, 6, 3) and facts.class_names == ("red", "green", "blue")
    raw = npz_data.load(tmp_path / "colour.npz")
    unit = preprocessing.fit("unit", raw.train_images)
    splits = data.make_splits(raw, unit, 3)
    assert splits.train_imgs.shape == (12, 6, 6, 3)
    assert splits.train_imgs.min() == 0.0 and splits.train_imgs.max() == 1.0


NPZ_FAULTS = {
    "missing key": ({"y_test": None}, "lacks y_test"),
    "inconsistent lengths": ({"y_train": np.zeros(11, dtype=int)}, "holds 12 images"),
    "bad channels": ({"x_test": np.zeros((5, 10, 8, 2), np.uint8)}, "C = 1 or 3"),
    "bad rank": ({"x_train": np.zeros((12, 80), np.uint8)}, "(N, H, W)"),
    "different image shapes": ({"x_test": np.zeros((5, 8, 10), np.uint8)}, "same image shape"),
    "float labels": ({"y_test": np.zeros(5)}, "integer class labels"),
    "negative labels": ({"y_train": np.arange(12) - 1}, "negative labels"),
    "int64 images": ({"x_train": np.zeros((12, 10, 8), np.int64)}, "give uint8"),
}


@pytest.mark.parametrize("case", list(NPZ_FAULTS))
def test_npz_faults_are_one_line(tmp_path: Path, case: str) -> None:
    changes, expected = NPZ_FAULTS[case]
    write_npz(tmp_path / "bad.npz", **changes)
    with pytest.raises(CnnLensError, match=re.escape(expected)) as raised:
        datasets.facts(data_settings(dataset="npz", file=str(tmp_path / "bad.npz")))
    assert "\n" not in str(raised.value) and "bad.npz" in str(raised.value)


def test_class_names_are_for_npz_and_each_given_once(tmp_path: Path) -> None:
    write_npz(tmp_path / "grey.npz")
    with pytest.raises(CnnLensError, match="'b' more than once"):
        datasets.facts(
            data_settings(
                dataset="npz", file=str(tmp_path / "grey.npz"), class_names=("a", "b", "b")
            )
        )
    with pytest.raises(CnnLensError, match="fashion_mnist names its own classes"):
        datasets.facts(data_settings(dataset="fashion_mnist", class_names=("a", "b")))


def test_a_file_that_is_not_an_npz_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.npz").write_text("not a zip archive")
    with pytest.raises(CnnLensError, match="is not a readable .npz"):
        datasets.facts(data_settings(dataset="npz", file=str(tmp_path / "notes.npz")))
    with pytest.raises(CnnLensError, match="no file"):
        datasets.facts(data_settings(dataset="npz", file=str(tmp_path / "absent.npz")))


# ---- the faults through the real command: stopped before any job ----


def npz_override(root: Path, name: str, **changes) -> str:
    write_npz(root / name, **changes)
    return f"data={{dataset: npz, file: {root / name}}}"


def not_an_npz(root: Path) -> str:
    (root / "text.npz").write_text("hello")
    return f"data={{dataset: npz, file: {root / 'text.npz'}}}"


CLI_FAULTS = {
    "npz missing key": (
        lambda root: npz_override(root, "nokey.npz", x_test=None),
        ("data.file", "lacks x_test"),
    ),
    "npz lengths": (
        lambda root: npz_override(root, "lengths.npz", y_test=np.zeros(4, dtype=int)),
        ("data.file", "x_test holds 5 images", "y_test has shape (4,)"),
    ),
    "labels outside the classes": (
        lambda root: npz_override(
            root,
            "labels.npz",
            x_train=np.zeros((12, 28, 28), np.uint8),
            x_test=np.zeros((5, 28, 28), np.uint8),
            y_train=np.arange(12),
        ),
        ("labels reach 11", "0..9"),
    ),
    "npz file missing": ("data={dataset: npz, file: /no/such/data.npz}", ("data.file", "no file")),
    "not an npz": (not_an_npz, ("data.file", "not a readable .npz")),
    "fashion source_dir": (
        lambda root: f"data={{dataset: fashion_mnist, source_dir: {root}}}",
        ("data.source_dir", "lacks the Fashion-MNIST IDX files"),
    ),
}


@pytest.mark.pipeline
def test_data_faults_stop_the_dry_run_with_one_line(tmp_path: Path) -> None:
    """Every case in one copy of the repository (one snakemake -n per case)."""
    workspace = make_workspace(tmp_path / "repository")
    for override, expected in CLI_FAULTS.values():
        value = override(tmp_path) if callable(override) else override
        assert_one_line_error(workspace.snakemake("-n", "--config", value, check=False), *expected)
    assert not workspace.path("results").exists()


# ---- the data stage on the real Fashion-MNIST, by the Debian package route ----


def package_route_unavailable() -> str:
    """Why the Debian package route cannot run here ("" when it can, or the files are cached)."""
    if fashion_mnist.is_cached(DEFAULT_CACHE):
        return ""
    missing = [program for program in ("apt-get", "apt-cache", "dpkg") if not shutil.which(program)]
    if missing:
        return f"{', '.join(missing)} missing"
    known = subprocess.run(
        ["apt-cache", "show", fashion_mnist.DEBIAN_PACKAGE], capture_output=True, check=False
    )
    return "" if known.returncode == 0 else "apt knows no such package (run apt-get update)"


PACKAGE_ROUTE_UNAVAILABLE = package_route_unavailable()


@pytest.mark.pipeline
@pytest.mark.skipif(
    bool(PACKAGE_ROUTE_UNAVAILABLE) and not os.environ.get("CNNLENS_FASHION"),
    reason=f"Fashion-MNIST is not in {DEFAULT_CACHE} and Debian's package "
    f"dataset-fashion-mnist cannot be fetched: {PACKAGE_ROUTE_UNAVAILABLE} (CI sets "
    "CNNLENS_FASHION and requires it)",
)
def test_data_stage_on_fashion_mnist_by_the_debian_package(fresh_workspace: Workspace):
    fresh_workspace.snakemake(
        "results/data/manifest.json", "--config", "data={dataset: fashion_mnist}"
    )
    manifest = json.loads(fresh_workspace.path("results/data/manifest.json").read_text())
    assert manifest["dataset"] == "fashion_mnist" and manifest["sha256_verified"]
    assert manifest["sha256"] == fashion_mnist.ARRAY_SHA256
    assert "Debian package dataset-fashion-mnist" in manifest["source_route"]
    assert manifest["class_names"] == list(datasets.FASHION_CLASSES)
    y_test = np.load(fresh_workspace.path("results/data/y_test.npy"))
    assert len(y_test) == manifest["shapes"]["y_test"][0] == 300  # the tiny subset
    counts = np.bincount(y_test, minlength=10).tolist()
    assert manifest["test_label_counts"] == counts
    assert manifest["label_counts"]["test"]["Ankle boot"] == counts[9]
    assert manifest["preprocessing"]["kind"] == "standardise"
    assert fresh_workspace.path("results/data/overview.png").stat().st_size > 10_000
