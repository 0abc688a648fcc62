"""Named arrays in one compressed ``.npz``: written atomically, read back with a clear error."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from cnnlens.errors import CnnLensError
from cnnlens.files import atomic_path


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
