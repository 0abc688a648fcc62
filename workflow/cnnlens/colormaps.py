"""Matplotlib's colour map names, known before any job starts, without importing matplotlib.

The workflow glue must stay free of matplotlib (``snakemake -n`` is fast and works where it is
slow to import), yet a misspelt colour map must stop the run before the expensive jobs whose
figures would use it. The names are listed once by a short-lived Python process and kept in a
file named after matplotlib's version, so later runs read them from there.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from cnnlens.errors import CnnLensError
from cnnlens.files import write_text

DEFAULT_CACHE = Path(".snakemake") / "cnnlens"
LIST_NAMES = "import matplotlib; print('\\n'.join(sorted(matplotlib.colormaps)))"
LIST_TIMEOUT_SECONDS = 120


def known_names(cache_directory: str | os.PathLike = DEFAULT_CACHE) -> frozenset[str]:
    """Every colour map name matplotlib accepts (reversed ``_r`` variants included)."""
    try:
        version = importlib.metadata.version("matplotlib")
    except importlib.metadata.PackageNotFoundError:
        raise CnnLensError(
            "matplotlib is not installed; install the project with pip install -e ."
        ) from None
    cache = Path(cache_directory) / f"matplotlib-{version}-colormaps.txt"
    if cache.is_file():
        names = cache.read_text().split()
        if names:
            return frozenset(names)
    names = _list_names()
    write_text(cache, "\n".join(names) + "\n")
    return frozenset(names)


def _list_names() -> list[str]:
    """Ask a fresh Python process for matplotlib's colour map names."""
    try:
        listed = subprocess.run(
            [sys.executable, "-c", LIST_NAMES],
            capture_output=True,
            text=True,
            timeout=LIST_TIMEOUT_SECONDS,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise CnnLensError(
            f"cannot list matplotlib's colour maps ({type(error).__name__}); check that "
            "'python -c \"import matplotlib\"' works"
        ) from None
    return listed.stdout.split()


def check_names(chosen: Mapping[str, str], known: frozenset[str]) -> None:
    """Raise a one-line error for the first setting (key -> colour map) matplotlib lacks."""
    for setting, name in chosen.items():
        if name not in known:
            close = sorted(other for other in known if other.lower() == name.lower())
            hint = f"did you mean {close[0]}? " if close else ""
            raise CnnLensError(
                f"{setting}: matplotlib has no colour map {name!r}; {hint}use one such as "
                "jet, viridis, magma or gray (list: python -c \"import matplotlib; "
                "print(sorted(matplotlib.colormaps))\")"
            )
