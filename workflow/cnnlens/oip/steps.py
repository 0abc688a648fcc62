"""The steps of an OIP search, and the checks of the search settings.

``oip.snapshot_steps: null`` keeps the images at log-spaced steps (0, 9, 18, 36, ... and the
last step) for the evolution figures. :func:`check_search` raises a one-line error for
settings that do not fit together, both in the search and in the workflow's checks before any
job starts (this module imports no TensorFlow).
"""

from __future__ import annotations

from cnnlens import noise
from cnnlens.errors import CnnLensError
from cnnlens.settings import OipSearch


def log_snapshot_steps(steps: int, first: int = 9) -> tuple[int, ...]:
    """0, then ``first`` doubling (9, 18, 36, ...) below ``steps``, then ``steps``."""
    snapshot_steps = [0]
    step = first
    while step < steps:
        snapshot_steps.append(step)
        step *= 2
    if steps > 0:
        snapshot_steps.append(steps)
    return tuple(snapshot_steps)


def snapshot_steps(search: OipSearch) -> tuple[int, ...]:
    """The configured snapshot steps, or the log-spaced ones when none are configured."""
    if search.snapshot_steps is None:
        return log_snapshot_steps(search.steps)
    return tuple(search.snapshot_steps)


def check_search(search: OipSearch) -> None:
    """Raise a one-line error for search settings that do not fit together."""
    noise.check_scales(search.noise.scales, search.noise.factors, "oip.noise")
    noise.check_scales(search.revival.scales, search.revival.factors, "oip.revival")
    outside = [step for step in snapshot_steps(search) if not 0 <= step <= search.steps]
    if outside:
        raise CnnLensError(
            f"oip.snapshot_steps {outside} lie outside the search's steps 0..{search.steps}; "
            "fix it in config.yaml"
        )
    if search.strategy.kind == "staged":
        _check_stage_starts(search)


def _check_stage_starts(search: OipSearch) -> None:
    expected = len(search.noise.scales) - 1
    starts = list(search.strategy.stage_starts)
    if (
        len(starts) != expected
        or starts != sorted(starts)
        or (starts and not 0 < starts[0] <= starts[-1] < search.steps)
    ):
        raise CnnLensError(
            f"oip.strategy.stage_starts {starts} must give, in increasing order within "
            f"1..{search.steps - 1}, the step at which each of the {expected} finer noise "
            "scales is added; fix it in config.yaml"
        )
