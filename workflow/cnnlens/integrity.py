"""Intermediate files verified when read: a damaged one stops the job with one line that names
it and the command that rebuilds it.

A later job reads what an earlier one wrote (the model, the splits, chunk results, arrays).
Such a file can be damaged after it was written (a truncated copy, a full disk outside the
workflow, an edit by hand) while its timestamp says it is up to date, so Snakemake does not
rebuild it. Every reader goes through :func:`reading` (or :func:`check_zip` for zip-based
formats read by other libraries), which turns whatever the decoder raises into a
:class:`~cnnlens.errors.CnnLensError`.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from cnnlens.errors import CnnLensError

#: What NumPy, zipfile, zlib, json and csv raise for a truncated or altered file.
READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    KeyError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
)


def rebuild_command(path: str | os.PathLike) -> str:
    """The command that rebuilds ``path`` and everything made from it."""
    return f"snakemake --forcerun {os.fspath(path)}"


def damaged(path: str | os.PathLike, reason: str) -> CnnLensError:
    """The one-line error for a damaged intermediate file."""
    return CnnLensError(
        f"cannot read {os.fspath(path)}: it is damaged ({reason}); rebuild it with "
        f"'{rebuild_command(path)}' (add your usual --configfile/--config options)"
    )


def _reason(error: BaseException) -> str:
    """An exception as a short phrase: its type and the first line of its message."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@contextlib.contextmanager
def reading(path: str | os.PathLike, what: str = "") -> Iterator[Path]:
    """Read ``path`` inside the block; a missing file or a decoding error becomes one line.

    ``what`` (e.g. "OIP search result") is put before the path in the message.
    """
    location = Path(path)
    if not location.is_file():
        label = f"{what} " if what else ""
        raise CnnLensError(
            f"no {label}file {location}; make it with '{rebuild_command(location)}'"
        )
    try:
        yield location
    except READ_ERRORS as error:
        raise damaged(location, _reason(error)) from None


def check_zip(path: str | os.PathLike) -> None:
    """Raise :func:`damaged` unless ``path`` is a zip archive whose members all pass their CRC
    (Keras' ``.keras`` format, NumPy's ``.npz``)."""
    with reading(path) as location:
        if not zipfile.is_zipfile(location):
            raise damaged(location, "not a complete zip archive: truncated or overwritten")
        with zipfile.ZipFile(location) as archive:
            broken = archive.testzip()
        if broken is not None:
            raise damaged(location, f"member {broken} fails its checksum")
