"""The default photo to dream on: matplotlib's sample photograph, found without importing
matplotlib. Its file lives inside the matplotlib install, so the workflow never makes that
path an input (it differs between environments, and a changed input path reruns the dreams):
the photo job reads it by :func:`photo_file`, and the records name it :data:`LABEL`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from cnnlens.errors import CnnLensError

FILE_NAME = "grace_hopper.jpg"
LABEL = f"matplotlib's sample photo {FILE_NAME}"


def photo_file() -> Path:
    """Where this environment's matplotlib keeps the sample photograph."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise CnnLensError("matplotlib is not installed; install the project with pip install -e .")
    package = Path(next(iter(spec.submodule_search_locations)))
    return package / "mpl-data" / "sample_data" / FILE_NAME


def is_sample(path: str | Path) -> bool:
    """True when ``path`` is the sample photograph of this environment."""
    return Path(path).expanduser().resolve() == photo_file().resolve()
