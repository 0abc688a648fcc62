"""Transforms: what is done to the images around every step of the ascent.

A transform is set up once per render (:meth:`begin`, given the number of steps; random
draws happen there) and gives a plan that moves the state before each step (``apply``) and
moves the stepped state back (``undo``). The engine steps from the moved images, so the
objective the loop records at a step is that of the moved images.
"""

from __future__ import annotations

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
