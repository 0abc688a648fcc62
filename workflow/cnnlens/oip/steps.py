"""The steps of an OIP search, a layer's own search settings, and the checks of the search
settings.

``oip.snapshot_steps: null`` keeps the images at log-spaced steps (0, 9, 18, 36, ... and the
last step) for the evolution figures. :func:`check_search` raises a one-line error for
settings that do not fit together, both in the search and in the workflow's checks before any
job starts (this module imports no TensorFlow). :func:`search_of_layer` gives the settings a
layer's search uses: its own noise (``oip.noise.per_layer``) in place of the common one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from cnnlens import noise
from cnnlens.errors import CnnLensError
from cnnlens.settings import OipSearch, build, keys_of


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


def search_of_layer(search: OipSearch, layer: str) -> OipSearch:
    """The settings of ``layer``'s search (:func:`layer_search_config`)."""
    mapping = keys_of(OipSearch, dataclasses.asdict(search))
    return build(OipSearch, layer_search_config(mapping, layer))


def layer_search_config(search: Mapping[str, Any], layer: str) -> dict[str, Any]:
    """The search keys (a rule's ``params``) of ``layer``'s search: its ``oip.noise.per_layer``
    scales and factors (or the common ones) as ``noise``, with an empty per-layer table, so
    changing another layer's noise does not rerun this layer; a layer with its own scales keeps
    the first ``len(scales) - 1`` stage starts of the staged strategy."""
    common = search["noise"]
    if layer not in common["per_layer"]:
        return {**search, "noise": {**common, "per_layer": {}}}
    own = common["per_layer"][layer]
    strategy = search["strategy"]
    stage_starts = list(strategy["stage_starts"])[: len(own["scales"]) - 1]
    return {
        **search,
        "noise": {"scales": own["scales"], "factors": own["factors"], "per_layer": {}},
        "strategy": {**strategy, "stage_starts": stage_starts},
    }


def check_noise_layers(search: OipSearch, layers: Sequence[str]) -> None:
    """Raise unless every layer of ``oip.noise.per_layer`` is one of ``layers`` (the model's
    conv and dense layers)."""
    unknown = sorted(set(search.noise.per_layer) - set(layers))
    if unknown:
        raise CnnLensError(
            f"oip.noise.per_layer names {', '.join(map(repr, unknown))}, which the model "
            f"lacks; its conv and dense layers are {', '.join(layers)}"
        )


def check_search(search: OipSearch) -> None:
    """Raise a one-line error for search settings that do not fit together."""
    noise.check_scales(search.noise.scales, search.noise.factors, "oip.noise")
    for layer, own in search.noise.per_layer.items():
        noise.check_scales(own.scales, own.factors, f"oip.noise.per_layer.{layer}")
    noise.check_scales(search.revival.scales, search.revival.factors, "oip.revival")
    outside = [step for step in snapshot_steps(search) if not 0 <= step <= search.steps]
    if outside:
        raise CnnLensError(
            f"oip.snapshot_steps {outside} lie outside the search's steps 0..{search.steps}; "
            "fix it in config.yaml"
        )
    if search.strategy.kind == "staged":
        for layer in [None, *search.noise.per_layer]:
            _check_stage_starts(search if layer is None else search_of_layer(search, layer))


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
