"""IDX files, the format of MNIST and Fashion-MNIST: decoding (raw or gzipped) and finding the
four files of a data set in a directory. Both data sets use the same file names. NumPy only.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from cnnlens.errors import CnnLensError
from cnnlens.raw_data import RawData, RouteUnavailable

#: IDX file stem of each array, as published by LeCun et al. (and by Zalando for Fashion-MNIST).
IDX_STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

IDX_UBYTE_TYPE_CODE = 0x08
GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Decode an IDX file of unsigned bytes (raw or gzipped) into a uint8 array."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise CnnLensError(f"{path} is a damaged gzip file ({error}); replace it") from None
    return decode_idx(raw, source=str(path))


def decode_idx(raw: bytes, source: str = "IDX data") -> np.ndarray:
    """Decode the bytes of an IDX file of unsigned bytes into a uint8 array of its shape."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise CnnLensError(f"{source} is not an IDX file (bad magic number); replace it")
    type_code, dimensions = raw[2], raw[3]
    if type_code != IDX_UBYTE_TYPE_CODE:
        raise CnnLensError(
            f"{source} holds IDX type 0x{type_code:02x}, expected unsigned bytes (0x08)"
        )
    header_size = 4 + 4 * dimensions
    if len(raw) < header_size:
        raise CnnLensError(f"{source} is truncated inside its header; replace it")
    shape = tuple(
        int.from_bytes(raw[4 + 4 * axis : 8 + 4 * axis], "big") for axis in range(dimensions)
    )
    expected_size = header_size + int(np.prod(shape, dtype=np.int64))
    if len(raw) != expected_size:
        raise CnnLensError(
            f"{source} has {len(raw)} bytes but its header {shape} needs {expected_size}; "
            "the file is truncated or corrupt, replace it"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape).copy()


def find_idx_file(directory: Path, stem: str) -> Path | None:
    """The IDX file for ``stem`` in ``directory``: raw, ``.gz``, or the dotted variant."""
    dotted = stem.replace("-idx", ".idx")  # train-images.idx3-ubyte
    for name in (stem, f"{stem}.gz", dotted, f"{dotted}.gz"):
        candidate = Path(directory) / name
        if candidate.is_file():
            return candidate
    return None


def source_directory(directory: str | os.PathLike, otherwise: str) -> Path:
    """``data.source_dir`` as a path; a one-line error when it is not a directory
    (``otherwise``: what setting it to null does, e.g. "to let the pipeline find MNIST
    itself")."""
    location = Path(directory).expanduser()
    if not location.is_dir():
        raise CnnLensError(
            f"data.source_dir {location} is not a directory; fix data.source_dir in "
            f"config.yaml or set it to null {otherwise}"
        )
    return location


def missing_idx_files(directory: Path) -> list[str]:
    """The stems of the four IDX files that ``directory`` lacks (by name only)."""
    return [stem for stem in IDX_STEMS.values() if find_idx_file(directory, stem) is None]


def load_idx_directory(directory: Path, route: str) -> RawData:
    """Load the four IDX files of ``directory``."""
    paths = {name: find_idx_file(directory, stem) for name, stem in IDX_STEMS.items()}
    missing = [IDX_STEMS[name] for name, path in paths.items() if path is None]
    if missing:
        raise RouteUnavailable(f"{directory} lacks {', '.join(missing)}")
    return RawData(**{name: read_idx(path) for name, path in paths.items()}, route=route)
