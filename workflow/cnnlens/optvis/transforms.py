"""Transforms: what is done to the images around every step of the ascent.

State transforms: set up once per render (:meth:`begin`, given the number of steps; random
draws happen there), they give a plan that moves the state before each step (``apply``) and
moves the stepped state back (``undo``). The engine steps from the moved images, so the
objective the loop records at a step is that of the moved images.

Image warps (transformation robustness, as in lucid): :class:`RandomWarp` draws, per image
and step, a jitter, a scale and a rotation (in NumPy, seeded per image); the loop passes each
step's (batch, 8) projective matrices to the compiled step, which warps the images the network
sees (:func:`warp`, differentiable) while the state stays unwarped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import tensorflow as tf


class StepPlan(Protocol):
    """A transform set up for one render."""

    def apply(self, state: tf.Tensor, step: int) -> tf.Tensor: ...

    def undo(self, state: tf.Tensor, step: int) -> tf.Tensor: ...


class Transform(Protocol):
    def begin(self, steps: int) -> StepPlan: ...


@dataclass(frozen=True)
class Roll:
    """The images rolled by ``shifts[step]`` (rows, columns) before step ``step``, the same
    shift for the whole batch, and rolled back after it."""

    shifts: tuple[tuple[int, int], ...]

    def apply(self, state: tf.Tensor, step: int) -> tf.Tensor:
        return tf.roll(state, list(self.shifts[step]), axis=(1, 2))

    def undo(self, state: tf.Tensor, step: int) -> tf.Tensor:
        return tf.roll(state, [-offset for offset in self.shifts[step]], axis=(1, 2))


class RandomRoll:
    """Before each step a random roll of up to ``max_shift`` pixels in each direction (so no
    fixed grid of the network's strides and no border seam shows in the result)."""

    def __init__(self, max_shift: int, rng: np.random.Generator) -> None:
        self.max_shift = max_shift
        self.rng = rng

    def begin(self, steps: int) -> Roll:
        """Draws every step's offset at once: ``steps`` (rows, columns) pairs."""
        shifts = self.rng.integers(-self.max_shift, self.max_shift + 1, size=(steps, 2))
        return Roll(tuple((rows, columns) for rows, columns in shifts.tolist()))


#: Distinguishes a warp's generator from the start noise's of the same image key.
WARP_STREAM = 7


@dataclass(frozen=True)
class RandomWarp:
    """Random jitter of up to ``jitter`` pixels, scaling by a factor in [1 - scale, 1 + scale]
    and rotation by up to ``rotate`` degrees, about the image's centre; borders mirrored."""

    jitter: int
    scale: float
    rotate: float

    @property
    def active(self) -> bool:
        return bool(self.jitter or self.scale or self.rotate)

    def begin(self, steps: int, keys: Sequence[Sequence[int]], size: tuple[int, int]) -> Warps:
        """Every step's warp of image i, drawn from a generator keyed by ``keys[i]``."""
        draws = np.zeros((len(keys), max(steps, 1), 4), np.float64)
        for index, key in enumerate(keys):
            generator = np.random.default_rng([*key, WARP_STREAM])
            draws[index, :, :2] = generator.integers(
                -self.jitter, self.jitter + 1, size=(max(steps, 1), 2)
            )
            draws[index, :, 2] = generator.uniform(1 - self.scale, 1 + self.scale, max(steps, 1))
            draws[index, :, 3] = generator.uniform(-self.rotate, self.rotate, max(steps, 1))
        return Warps(draws, size)


@dataclass(frozen=True)
class Warps:
    """Drawn warps: ``draws`` (images, steps, 4) of (rows shift, columns shift, scale,
    degrees) for images of ``size`` (height, width)."""

    draws: np.ndarray
    size: tuple[int, int]

    def matrices(self, step: int, rows: np.ndarray) -> np.ndarray:
        """(len(rows), 8) float32 projective matrices of step ``step`` for images ``rows``,
        mapping output pixels (x, y) to the input pixels they read."""
        shift_y, shift_x, scale, degrees = np.moveaxis(self.draws[rows, step], -1, 0)
        angle = np.deg2rad(degrees)
        cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
        centre_y, centre_x = (self.size[0] - 1) / 2, (self.size[1] - 1) / 2
        moved_x, moved_y = centre_x + shift_x, centre_y + shift_y
        offset_x = centre_x - (cos * moved_x + sin * moved_y)
        offset_y = centre_y - (-sin * moved_x + cos * moved_y)
        zeros = np.zeros_like(cos)
        columns = [cos, sin, offset_x, -sin, cos, offset_y, zeros, zeros]
        return np.stack(columns, axis=1).astype(np.float32)


def warp(images, matrices):
    """Graph side: (batch, H, W, C) images warped by (batch, 8) matrices (bilinear, borders
    mirrored); differentiable in the images."""
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=matrices,
        output_shape=tf.shape(images)[1:3],
        interpolation="BILINEAR",
        fill_mode="REFLECT",
        fill_value=0.0,
    )
