"""How images are prepared for the model (``model.preprocessing``), and the input range that
OIPs and dreams keep to.

Three kinds:

- ``standardise``: each image to zero mean and unit variance over its pixels and channels (the
  study's way). An OIP or dream is re-standardised after every step; there is no fixed range.
- ``unit``: pixel values scaled to [0, 1] (uint8 data divided by 255; float data mapped from
  the training images' minimum and maximum). OIPs and dreams are clipped to [0, 1].
- ``none``: the data's values as they are; OIPs and dreams are clipped to the training images'
  minimum and maximum.

The fitted :class:`Preprocessing` is recorded in ``results/data/manifest.json`` (key
``preprocessing``) by the data stage; the OIP and dream stages read it back from there.
NumPy only: no TensorFlow, no matplotlib.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np

KINDS = ("standardise", "unit", "none")
STD_FLOOR = 1e-6
PHOTO_MAXIMUM = 255.0


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """A fitted preprocessing: ``prepared = (raw - shift) / scale`` (``unit``, ``none``) or
    per-image standardisation; prepared inputs lie in [low, high] (None for ``standardise``)."""

    kind: str
    shift: float = 0.0
    scale: float = 1.0
    low: float | None = None
    high: float | None = None

    @property
    def bounded(self) -> bool:
        """True when inputs keep to a fixed range [low, high] (``unit`` and ``none``)."""
        return self.low is not None

    def apply(self, images: np.ndarray) -> np.ndarray:
        """Raw images (N, H, W) or (N, H, W, C), any numeric type, prepared as float32 NHWC."""
        values = np.asarray(images, dtype=np.float32)
        if values.ndim == 3:
            values = values[..., np.newaxis]
        if self.kind == "standardise":
            return standardise(values)
        return ((values - np.float32(self.shift)) / np.float32(self.scale)).astype(np.float32)

    def project(self, images: np.ndarray) -> np.ndarray:
        """Inputs brought back into the model's input domain: re-standardised, or clipped."""
        values = np.asarray(images, dtype=np.float32)
        if self.kind == "standardise":
            return standardise(values)
        return np.clip(values, self.low, self.high).astype(np.float32)

    def from_photo(self, photo: np.ndarray) -> np.ndarray:
        """A photo's 0..255 values (H, W) or (H, W, C) as a model input of this preprocessing:
        standardised, or mapped linearly onto [low, high]."""
        values = np.asarray(photo, dtype=np.float32)[np.newaxis]
        if self.kind == "standardise":
            return standardise(values)[0]
        span = np.float32(self.high - self.low)
        return (np.float32(self.low) + values[0] / np.float32(PHOTO_MAXIMUM) * span).astype(
            np.float32
        )

    def to_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Preprocessing:
        return cls(**record)


def standardise(images: np.ndarray) -> np.ndarray:
    """Each image (first axis) to zero mean and unit variance over all its other axes; a
    constant image becomes zeros. float32 of the same shape."""
    values = np.asarray(images, dtype=np.float32)
    axes = tuple(range(1, values.ndim))
    mean = values.mean(axis=axes, keepdims=True)
    std = values.std(axis=axes, keepdims=True)
    return ((values - mean) / np.maximum(std, STD_FLOOR)).astype(np.float32)


def into_input_range(images: np.ndarray, preprocessing: Preprocessing | None) -> np.ndarray:
    """Images brought into the model's input range: :meth:`Preprocessing.project`, per-image
    standardisation when there is no preprocessing record (None). float32."""
    return standardise(images) if preprocessing is None else preprocessing.project(images)


def fit(kind: str, train_images: np.ndarray) -> Preprocessing:
    """The preprocessing ``kind`` fitted to the raw training images (their dtype and range)."""
    if kind == "standardise":
        return Preprocessing("standardise")
    if np.issubdtype(np.asarray(train_images).dtype, np.integer):
        low, high = 0.0, float(np.iinfo(np.asarray(train_images).dtype).max)
    else:
        low, high = float(np.min(train_images)), float(np.max(train_images))
    if kind == "unit":
        scale = high - low if high > low else 1.0
        return Preprocessing("unit", shift=low, scale=scale, low=0.0, high=1.0)
    if kind == "none":
        return Preprocessing("none", low=low, high=high)
    raise ValueError(f"unknown preprocessing {kind!r}; use one of {', '.join(KINDS)}")


def from_manifest(path: str | os.PathLike) -> Preprocessing:
    """The preprocessing the data stage recorded in ``results/data/manifest.json``."""
    with open(path) as handle:
        return Preprocessing.from_record(json.load(handle)["preprocessing"])
