"""A user's own data set: an ``.npz`` (``data.file``) holding ``x_train``, ``y_train``,
``x_test`` and ``y_test``.

Images are uint8 or float, (N, H, W) or (N, H, W, C) with C = 1 or 3; labels are integers.
The plan has checked keys, shapes, dtypes and labels before any job
(:func:`cnnlens.datasets.npz_facts`); here the arrays are read as they are. There is nothing
to verify them against: their SHA-256 digests are recorded in the manifest. NumPy only.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cnnlens.errors import CnnLensError
from cnnlens.raw_data import RawData

#: Key of each array inside the ``.npz`` (Keras' names).
NPZ_KEYS = {
    "train_images": "x_train",
    "train_labels": "y_train",
    "test_images": "x_test",
    "test_labels": "y_test",
}


def load(path: str | os.PathLike) -> RawData:
    """The four arrays of the ``.npz`` at ``path``, as stored."""
    location = Path(path).expanduser()
    try:
        with np.load(location, allow_pickle=False) as archive:
            arrays = {name: np.asarray(archive[key]) for name, key in NPZ_KEYS.items()}
    except (OSError, ValueError, KeyError) as error:
        raise CnnLensError(
            f"data.file {location} is not a readable .npz with x_train, y_train, x_test, y_test "
            f"({error}); save it with numpy.savez"
        ) from None
    return RawData(**arrays, route=f"data.file {location}")
