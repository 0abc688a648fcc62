"""The ascent loop: ``steps`` engine steps from given images, with history, snapshots,
convergence, transforms and a schedule.

::

    from cnnlens.optvis.render import render

    result = render(engine, images, objective, steps=400, epsilon=0.01,
                    convergence=search.convergence, snapshot_steps=(0, 9, 18, 400))
    result.images            # (B, H, W, C) float32 final images
    result.history           # (B, steps + 1) objective of the image stepped from at each step
    result.snapshots         # (S, B, H, W, C) images at the snapshot steps
    result.converged_step    # (B,) first step of convergence, -1 if never

Convergence: a positive objective whose relative change stays below ``threshold`` for
``patience`` steps in a row; with ``early_stop`` a converged image is frozen (its history and
later snapshots keep its value) and the loop ends when all have converged.

Transforms (:mod:`.transforms`) move the images before each step and back after it; the
history then records the objective of the moved images, except ``history[0]``, the objective
of the unmoved start. A schedule is called at every step with (step, images, rows), ``rows``
the images' indices in the render's batch, and may return new images; convergence counting
restarts at every change, and early stop applies only from the schedule's ``last_change`` on.

Warps (:class:`cnnlens.optvis.transforms.Warps`, transformation robustness) warp the images
inside each step, per image; the history records the objective of the warped images the
steps climbed, except ``history[0]`` (the unwarped start) and ``history[steps]`` (the
unwarped final images). A blur (:class:`cnnlens.optvis.regularisers.Blur`) smooths the images
between steps and brings them back into the input range; it does not restart convergence.

Images are optimised ``batch_size`` at a time (memory only: an image's result does not
depend on its batch).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import tensorflow as tf

from cnnlens.blur import gaussian_blur
from cnnlens.errors import CnnLensError
from cnnlens.optvis.engine import AscentEngine
from cnnlens.optvis.objective_tables import Tables
from cnnlens.optvis.objectives import Objective
from cnnlens.optvis.regularisers import Blur
from cnnlens.optvis.transforms import StepPlan, Transform, Warps
from cnnlens.settings import Convergence


class Schedule(Protocol):
    """Changes the images at some steps (e.g. adds finer noise); ``last_change``: its last."""

    last_change: int

    def __call__(self, step: int, images: np.ndarray, rows: np.ndarray) -> np.ndarray | None: ...


@dataclasses.dataclass
class AscentResult:
    """What :func:`render` returns, images in the order given."""

    images: np.ndarray  # (B, H, W, C) final images
    history: np.ndarray  # (B, steps + 1) objective per step (frozen value after a stop)
    snapshots: np.ndarray  # (S, B, H, W, C) images at snapshot_steps
    snapshot_steps: tuple[int, ...]
    converged_step: np.ndarray  # (B,) first step at which convergence was reached, -1 if never
    steps_run: np.ndarray  # (B,) updates applied to each image

    @property
    def objective(self) -> np.ndarray:
        """(B,) objective of the final images."""
        return self.history[:, -1]


def render(
    engine: AscentEngine,
    images: np.ndarray,
    objective: Objective | Tables,
    steps: int,
    epsilon: float,
    convergence: Convergence | None = None,
    snapshot_steps: Sequence[int] = (),
    transforms: Sequence[Transform] = (),
    schedule: Schedule | None = None,
    batch_size: int = 512,
    warps: Warps | None = None,
    blur: Blur | None = None,
) -> AscentResult:
    """Climb ``steps`` steps of size ``epsilon`` from ``images`` (B, H, W, C), image ``b``
    climbing row ``b`` of ``objective``; see the module docstring."""
    images = np.asarray(images, np.float32)
    tables = engine.compile(objective)
    snapshot_steps = tuple(int(step) for step in snapshot_steps)
    _check(images, tables, steps, snapshot_steps, batch_size)
    plans = [transform.begin(steps) for transform in transforms]
    loop = _Loop(
        engine, steps, epsilon, convergence, snapshot_steps, plans, schedule, warps, blur
    )
    parts = [
        loop.run(images[start:stop], tables.take(slice(start, stop)), np.arange(start, stop))
        for start, stop in _batches(len(images), batch_size)
    ]
    if not parts:
        parts = [loop.empty(images)]
    return AscentResult(
        images=np.concatenate([part.images for part in parts]),
        history=np.concatenate([part.history for part in parts]),
        snapshots=np.concatenate([part.snapshots for part in parts], axis=1),
        snapshot_steps=snapshot_steps,
        converged_step=np.concatenate([part.converged_step for part in parts]),
        steps_run=np.concatenate([part.steps_run for part in parts]),
    )


def _check(images: np.ndarray, tables: Tables, steps: int, snapshot_steps, batch_size) -> None:
    if images.ndim != 4 or len(images) != tables.batch:
        raise CnnLensError(
            f"ascent got images of shape {images.shape} for {tables.batch} objectives; "
            "give (batch, height, width, channels) images, one per objective"
        )
    if steps < 0 or batch_size < 1:
        raise CnnLensError(
            f"an ascent needs steps >= 0 and batch_size >= 1, not {steps} and {batch_size}"
        )
    outside = [step for step in snapshot_steps if not 0 <= step <= steps]
    if outside:
        raise CnnLensError(
            f"snapshot steps {outside} lie outside the ascent's steps 0..{steps}; "
            "fix the snapshot list"
        )


def _batches(count: int, batch_size: int) -> list[tuple[int, int]]:
    return [(start, min(start + batch_size, count)) for start in range(0, count, batch_size)]


class _Tracker:
    """Counts, per image, the steps in a row with a small relative change of the objective."""

    def __init__(self, batch: int, convergence: Convergence | None) -> None:
        self.convergence = convergence
        self.batch = batch
        self.restart()

    def restart(self) -> None:
        """Forget everything (the images were changed)."""
        self.streak = np.zeros(self.batch, np.int64)
        self.previous = np.full(self.batch, np.nan, np.float64)
        self.converged_step = np.full(self.batch, -1, np.int64)

    def update(self, step: int, index: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Record objective ``values`` of images ``index`` at ``step``; return those that have
        just converged (as a boolean mask over ``index``)."""
        if self.convergence is None:
            return np.zeros(len(index), bool)
        previous = self.previous[index]
        change = np.abs(values - previous) / np.maximum(np.abs(previous), 1e-12)
        small = (values > 0) & (change < self.convergence.threshold)
        self.streak[index] = np.where(small, self.streak[index] + 1, 0)
        self.previous[index] = values
        newly = (self.streak[index] >= self.convergence.patience) & (self.converged_step[index] < 0)
        self.converged_step[index[newly]] = step
        return newly


@dataclasses.dataclass
class _Loop:
    """The loop's settings, run on one batch of images at a time."""

    engine: AscentEngine
    steps: int
    epsilon: float
    convergence: Convergence | None
    snapshot_steps: tuple[int, ...]
    plans: list[StepPlan]
    schedule: Schedule | None
    warps: Warps | None = None
    blur: Blur | None = None

    @property
    def stop_from(self) -> int | None:
        """The first step at which converged images may stop (None: never)."""
        if self.convergence is None or not self.convergence.early_stop:
            return None
        return 0 if self.schedule is None else self.schedule.last_change

    def empty(self, images: np.ndarray) -> AscentResult:
        return AscentResult(
            images=images.copy(),
            history=np.zeros((0, self.steps + 1), np.float32),
            snapshots=np.zeros((len(self.snapshot_steps), *images.shape), np.float32),
            snapshot_steps=self.snapshot_steps,
            converged_step=np.zeros(0, np.int64),
            steps_run=np.zeros(0, np.int64),
        )

    def run(self, images: np.ndarray, tables: Tables, rows: np.ndarray) -> AscentResult:
        """The loop for one batch; with early stop, converged images leave the batch."""
        param, batch = self.engine.param, len(images)
        history = np.zeros((batch, self.steps + 1), np.float32)
        snapshots = np.zeros((len(self.snapshot_steps), *images.shape), np.float32)
        final = images.copy()
        steps_run = np.full(batch, self.steps, np.int64)
        tracker = _Tracker(batch, self.convergence)
        active = np.arange(batch)
        state = param.start(images)
        stop_from = self.stop_from
        for step in range(self.steps + 1):
            if self.schedule is not None:
                changed = self.schedule(step, param.images(state), rows[active])
                if changed is not None:
                    state = param.start(changed)
                    tracker.restart()
            if self.blur is not None and self.blur.due(step, self.steps):
                blurred = gaussian_blur(param.images(state), self.blur.sigma)
                state = param.start(param.project(blurred))
            following, values = self._step(state, tables, step, rows[active])
            history[active, step:] = values[:, None]
            self._keep_snapshots(snapshots, step, active, state)
            newly = tracker.update(step, active, values)
            if stop_from is not None and step >= stop_from and newly.any() and step < self.steps:
                final[active[newly]] = param.images(state)[newly]
                self._fill_later_snapshots(snapshots, step, active[newly], final)
                steps_run[active[newly]] = step
                keep = ~newly
                active, tables = active[keep], tables.take(keep)
                following = tf.boolean_mask(following, keep)
                if not active.size:
                    break
            if following is not None:
                state = following
        if active.size:
            final[active] = param.images(state)
        return AscentResult(
            final, history, snapshots, self.snapshot_steps, tracker.converged_step, steps_run
        )

    def _step(
        self, state, tables: Tables, step: int, rows: np.ndarray
    ) -> tuple[tf.Tensor | None, np.ndarray]:
        """(state after the step, or None at the end; objective recorded for ``step``)."""
        if step == self.steps:
            return None, self.engine.evaluate(state, tables).numpy()
        moving = self.plans or self.warps is not None
        start = self.engine.evaluate(state, tables).numpy() if moving and step == 0 else None
        moved = state
        for plan in self.plans:
            moved = plan.apply(moved, step)
        matrices = None if self.warps is None else self.warps.matrices(step, rows)
        moved, values = self.engine.step(moved, tables, self.epsilon, matrices)
        for plan in reversed(self.plans):
            moved = plan.undo(moved, step)
        return moved, values.numpy() if start is None else start

    def _keep_snapshots(self, snapshots, step: int, active: np.ndarray, state) -> None:
        for slot, snapshot_step in enumerate(self.snapshot_steps):
            if snapshot_step == step:
                snapshots[slot, active] = self.engine.param.images(state)

    def _fill_later_snapshots(self, snapshots, step: int, frozen: np.ndarray, final) -> None:
        """Frozen images stay as they are: later snapshots show the frozen image."""
        for slot, snapshot_step in enumerate(self.snapshot_steps):
            if snapshot_step > step:
                snapshots[slot, frozen] = final[frozen]
