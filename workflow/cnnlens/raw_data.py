"""A data set as it arrives: four arrays (training and test images and labels) in their
published order, the route they came by, and their SHA-256 digests.

Every route of every data set (MNIST, Fashion-MNIST, a user's ``.npz``) yields a
:class:`RawData`; the data stage turns it into the splits. NumPy only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from cnnlens.errors import CnnLensError

#: The four arrays of a data set, in the order they are listed everywhere.
ARRAY_NAMES = ("train_images", "train_labels", "test_images", "test_labels")


class RouteUnavailable(Exception):
    """A route cannot be taken on this machine (no such file, no program, no network)."""


@dataclass(frozen=True)
class RawData:
    """The four arrays as read (images (N, H, W) or (N, H, W, C); labels (N,)) and the route
    they came by."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    route: str

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays by name (the keys of :data:`ARRAY_NAMES`)."""
        return {name: getattr(self, name) for name in ARRAY_NAMES}


def array_sha256(array: np.ndarray) -> str:
    """SHA-256 of an array's raw bytes in C order."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def digests(raw: RawData) -> dict[str, str]:
    """SHA-256 of each of the four arrays, by name."""
    return {name: array_sha256(array) for name, array in raw.arrays().items()}


def verify(raw: RawData, expected: dict[str, str], dataset: str, how_to_supply: str) -> None:
    """Check that every array is uint8 with the published SHA-256; a one-line error naming
    the route, the array and the expected digest otherwise (never a silent fallback)."""
    for name, array in raw.arrays().items():
        if array.dtype != np.uint8:
            raise CnnLensError(
                f"{dataset} from {raw.route}: {name} has dtype {array.dtype}, expected uint8; "
                f"{how_to_supply}"
            )
        digest = array_sha256(array)
        if digest != expected[name]:
            raise CnnLensError(
                f"{dataset} from {raw.route} is not the real {dataset}: {name} {array.shape} "
                f"has SHA-256 {digest}, expected {expected[name]}; the file is corrupt or "
                f"another data set: {how_to_supply}"
            )
