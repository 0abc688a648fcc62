"""Atomic output writing: a file is either complete or absent, never half-written."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnnlens.errors import CnnLensError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent
    )
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o666 & ~_current_umask())  # mkstemp creates files as 0600
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _current_umask() -> int:
    """The process's umask (reading it means setting it, so it is set back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_array(path: str | os.PathLike) -> np.ndarray:
    """Load one ``.npy`` array, with a clear error when it is missing or damaged."""
    try:
        return np.load(path)
    except (OSError, ValueError) as error:
        raise CnnLensError(
            f"cannot read {path} ({error}); delete it and rerun the workflow to recreate it"
        ) from None


def save_arrays(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> None:
    """Save named arrays as one compressed ``.npz`` atomically."""
    with atomic_path(path) as temporary:
        np.savez_compressed(temporary, **arrays)


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load every array of an ``.npz``, with a clear error when it is missing or damaged."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except (OSError, ValueError, KeyError) as error:
        raise CnnLensError(
            f"cannot read {path} ({error}); delete it and rerun the workflow to recreate it"
        ) from None


def save_array(path: str | os.PathLike, array: np.ndarray) -> None:
    """Save one array as ``.npy`` atomically."""
    with atomic_path(path) as temporary:
        np.save(temporary, array)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text file atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def write_json(path: str | os.PathLike, data: Mapping[str, Any]) -> None:
    """Write a JSON document atomically, indented for people to read."""
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_csv(
    path: str | os.PathLike,
    rows: Sequence[Mapping[str, Any]],
    fieldnames: Sequence[str] | None = None,
) -> None:
    """Write rows of dicts as CSV atomically; columns in ``fieldnames`` order (default: the
    first row's keys)."""
    columns = list(fieldnames) if fieldnames is not None else list(rows[0]) if rows else []
    with atomic_path(path) as temporary, open(temporary, "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON document."""
    with open(path) as stream:
        return json.load(stream)


def read_csv(path: str | os.PathLike) -> list[dict[str, str]]:
    """Read a CSV file into a list of dicts (values as strings)."""
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))
