"""Obtain the real Fashion-MNIST (Zalando's 70,000 garment images) and prove it is the real one.

Two routes, in order: the four IDX files (raw or gzipped, MNIST's file names) in
``data.source_dir``, or Debian's package ``dataset-fashion-mnist``, fetched with
``apt-get download`` (no root, nothing installed) and unpacked with ``dpkg -x`` into the
download cache, where later runs find it. Every route decodes to the same four uint8 arrays,
whose SHA-256 digests are checked against the published values.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from cnnlens import raw_data
from cnnlens.errors import CnnLensError
from cnnlens.idx import load_idx_directory, missing_idx_files, source_directory
from cnnlens.raw_data import RawData, RouteUnavailable

log = logging.getLogger(__name__)

#: SHA-256 of the decoded arrays' raw bytes (C order), the same whatever the file format.
ARRAY_SHA256 = {
    "train_images": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
    "train_labels": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
    "test_images": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
    "test_labels": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
}

#: The published data set: image shape (height, width, channels) and images per split.
IMAGE_SHAPE = (28, 28, 1)
SPLIT_SIZES = {"train": 60_000, "test": 10_000}

DEBIAN_PACKAGE = "dataset-fashion-mnist"
PACKAGE_DATA_DIR = "usr/share/datasets/fashion-mnist"
CACHE_NAME = "fashion-mnist-deb"
COMMAND_TIMEOUT_SECONDS = 600
NULL_SOURCE_DIR = "to fetch Fashion-MNIST with apt-get download"

HOW_TO_SUPPLY = (
    "put the four Fashion-MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
    "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; raw or .gz) in a directory and set "
    "data.source_dir to it in config.yaml (see README, 'Supplying the data')"
)


def verify(fashion: RawData) -> None:
    """Check dtype and SHA-256 of every array; a one-line error on any mismatch."""
    raw_data.verify(fashion, ARRAY_SHA256, "Fashion-MNIST", HOW_TO_SUPPLY)


# --- route 1: data.source_dir ---------------------------------------------------------------


def check_source_dir(directory: str | os.PathLike) -> None:
    """Raise a one-line error unless ``directory`` holds the four IDX files (by their names;
    their content is verified when they are read). A directory named in the config is never
    passed over for another route."""
    location = source_directory(directory, NULL_SOURCE_DIR)
    missing = missing_idx_files(location)
    if missing:
        raise CnnLensError(
            f"data.source_dir {location} lacks the Fashion-MNIST IDX files "
            f"{', '.join(missing)} (raw or .gz, dashed or dotted names); put them there, or "
            f"set data.source_dir to null {NULL_SOURCE_DIR}"
        )


def from_directory(directory: Path) -> RawData:
    """The four IDX files of a user-supplied directory."""
    check_source_dir(directory)
    return load_idx_directory(directory, route=f"IDX files in {directory}")


# --- route 2: Debian's package ----------------------------------------------------------------


def package_directory(cache_dir: str | os.PathLike) -> Path:
    """Where the unpacked package's IDX files are kept: ``<cache>/fashion-mnist-deb/usr/...``."""
    return Path(cache_dir).expanduser() / CACHE_NAME / PACKAGE_DATA_DIR


def is_cached(cache_dir: str | os.PathLike) -> bool:
    """True when the download cache already holds the four unpacked IDX files."""
    return not missing_idx_files(package_directory(cache_dir))


def check_package_route(cache_dir: str | os.PathLike) -> None:
    """Before any job: a one-line error when the files are not cached and the programs the
    package route needs (apt-get, dpkg) are missing."""
    if is_cached(cache_dir):
        return
    absent = [program for program in ("apt-get", "dpkg") if shutil.which(program) is None]
    if absent:
        raise CnnLensError(
            f"Fashion-MNIST is not in the download cache {Path(cache_dir).expanduser()} and "
            f"{' and '.join(absent)} (needed to fetch Debian's package {DEBIAN_PACKAGE}) "
            f"{'is' if len(absent) == 1 else 'are'} not installed; {HOW_TO_SUPPLY}"
        )


def from_debian_package(cache_dir: str | os.PathLike) -> RawData:
    """The IDX files of Debian's package, downloaded and unpacked once into ``cache_dir``."""
    target = Path(cache_dir).expanduser() / CACHE_NAME
    route = f"Debian package {DEBIAN_PACKAGE} (cached in {target})"
    if not is_cached(cache_dir):
        download_debian_package(target)
    return load_idx_directory(package_directory(cache_dir), route=route)


def download_debian_package(target: Path) -> None:
    """``apt-get download`` the package into a scratch directory, ``dpkg -x`` it, and move the
    unpacked tree to ``target`` (only once it holds the four files)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        log.info("running apt-get download %s", DEBIAN_PACKAGE)
        run_tool(["apt-get", "download", DEBIAN_PACKAGE], Path(scratch))
        packages = sorted(Path(scratch).glob(f"{DEBIAN_PACKAGE}_*.deb"))
        if not packages:
            raise RouteUnavailable(f"apt-get download left no {DEBIAN_PACKAGE}_*.deb")
        unpacked = Path(scratch) / "unpacked"
        run_tool(["dpkg", "-x", str(packages[0]), str(unpacked)], Path(scratch))
        missing = missing_idx_files(unpacked / PACKAGE_DATA_DIR)
        if missing:
            raise RouteUnavailable(
                f"{packages[0].name} holds no {', '.join(missing)} under {PACKAGE_DATA_DIR}"
            )
        if target.exists():
            shutil.rmtree(target)
        os.replace(unpacked, target)


def run_tool(command: list[str], directory: Path) -> None:
    """Run an outside program; :class:`RouteUnavailable` with its last error line when it is
    missing, fails or hangs."""
    if shutil.which(command[0]) is None:
        raise RouteUnavailable(f"{command[0]} is not installed")
    try:
        result = subprocess.run(
            command,
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RouteUnavailable(
            f"{' '.join(command)} timed out after {COMMAND_TIMEOUT_SECONDS} s"
        ) from None
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        raise RouteUnavailable(f"{' '.join(command[:2])} failed: {reason}")


# --- the first route that works -----------------------------------------------------------------


def obtain(source_dir: str | None, cache_dir: str) -> RawData:
    """Load Fashion-MNIST from ``source_dir`` when it is set (no other route is then tried),
    else from Debian's package; verified against the published SHA-256 either way."""
    if source_dir:
        fashion = from_directory(Path(source_dir).expanduser())
    else:
        try:
            fashion = from_debian_package(cache_dir)
        except RouteUnavailable as reason:
            raise CnnLensError(
                f"could not fetch Debian's package {DEBIAN_PACKAGE} ({reason}); {HOW_TO_SUPPLY}"
            ) from None
    verify(fashion)
    log.info("Fashion-MNIST obtained from %s; SHA-256 of all four arrays verified", fashion.route)
    return fashion
