"""Atomic output writing: a file is either complete or absent, never half-written.

A full disk stops the writer with one line naming the file (the temporary file is removed),
and a temporary file left behind by a killed writer is removed by the next write of the same
file. Readers verify what they read (:mod:`cnnlens.integrity`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnnlens.errors import NO_SPACE_ERRNOS, CnnLensError
from cnnlens.integrity import damaged, reading



@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    A full disk becomes a one-line :class:`CnnLensError` naming ``path``; the temporary file
    is removed whatever happens (a SIGKILL aside: :func:`remove_stale_temporaries` then).
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target)
        handle, temporary = tempfile.mkstemp(
            prefix=temporary_prefix(target), suffix=target.suffix, dir=target.parent
        )
    except OSError as error:
        _raise_if_no_space(error, target)
        raise
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o666 & ~_current_umask())  # mkstemp creates files as 0600
        os.replace(temporary, target)
    except OSError as error:
        _raise_if_no_space(error, target)
        raise
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def temporary_prefix(target: Path) -> str:
    """How the temporary files of ``target`` begin: ``.{stem}.`` (hidden, beside it)."""
    return f".{target.stem}."


def temporary_pattern(target: Path) -> re.Pattern[str]:
    """The names :func:`atomic_path` gives the temporary files of ``target`` (mkstemp adds 8
    characters)."""
    return re.compile(
        re.escape(temporary_prefix(target)) + r"[A-Za-z0-9_]{8}" + re.escape(target.suffix) + "$"
    )


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove temporary files of ``target`` that a killed writer left behind; return them.
    (Snakemake runs one job per output file at a time, so none of them is being written.)"""
    pattern = temporary_pattern(target)
    stale = [entry for entry in target.parent.iterdir() if pattern.match(entry.name)]
    for entry in stale:
        entry.unlink(missing_ok=True)
    return stale


def _raise_if_no_space(error: OSError, target: Path) -> None:
    """A full disk while writing ``target`` becomes one line naming it; other errors pass."""
    if error.errno in NO_SPACE_ERRNOS:
        raise CnnLensError(
            f"no space left on the device to write {target} ({free_space(target.parent)} "
            "free); free some space and run snakemake again"
        ) from None


def free_space(directory: Path) -> str:
    """The space left on the file system of ``directory``, e.g. ``12.5 MB``."""
    try:
        usage = os.statvfs(directory)
    except OSError:
        return "unknown space"
    return f"{usage.f_bavail * usage.f_frsize / 1e6:.1f} MB"


def _current_umask() -> int:
    """The process's umask (reading it means setting it, so it is set back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_array(path: str | os.PathLike) -> np.ndarray:
    """Load one ``.npy`` array, with a one-line error when it is missing or damaged."""
    with reading(path) as location:
        return np.load(location, allow_pickle=False)


def save_arrays(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> None:
    """Save named arrays as one compressed ``.npz`` atomically."""
    with atomic_path(path) as temporary:
        np.savez_compressed(temporary, **arrays)


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load every array of an ``.npz``, with a one-line error when it is missing or damaged."""
    with reading(path) as location, np.load(location, allow_pickle=False) as stored:
        return {name: stored[name] for name in stored.files}


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
    """Read a JSON document (a damaged one gives a one-line error)."""
    with reading(path) as location, open(location) as stream:
        return json.load(stream)


def read_csv(path: str | os.PathLike) -> list[dict[str, str]]:
    """Read a CSV file into a list of dicts (values as strings); a file cut short (not ending
    with a line end, or a row with another number of fields than the header) gives a
    one-line error."""
    with reading(path) as location:
        raw = location.read_bytes()
    if not raw.endswith(b"\n"):
        raise damaged(path, "it ends in the middle of a line")
    rows = list(csv.DictReader(io.StringIO(raw.decode(), newline="")))
    if any(None in row or None in row.values() for row in rows):
        raise damaged(path, "a row has another number of fields than the header")
    return rows
