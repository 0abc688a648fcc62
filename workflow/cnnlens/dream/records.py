"""The ``metrics.json`` record of every render: the objective before and after, how much of
the photo survives, and what was climbed with which settings.

No TensorFlow: the records are built from the renders' results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from cnnlens.dream.names import describe_map, describe_mix, nonzero_weights, unique_maps
from cnnlens.dream.results import FineDreams, OctaveDream, SingleMapDreams
from cnnlens.settings import FineDream, LayerDream, SingleMap

FULL_SIZE = (
    "the full-size image, in the model's input range, through the fully convolutional conv part"
)


@dataclass
class RenderMetrics:
    """What ``metrics.json`` says about one render."""

    photo: str
    kind: str
    objective: str
    objective_before: float
    objective_after: float
    correlation_with_photo: float
    details: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The JSON document."""
        record = asdict(self)
        record["objective_gain"] = self.objective_after - self.objective_before
        record["raised"] = self.objective_after > self.objective_before
        return record


def render_title(record: RenderMetrics) -> str:
    """``Conv2D_3 map 7: objective 0.1 -> 3.2, correlation with the photo 0.66``."""
    return (
        f"{record.objective}: objective {record.objective_before:.3g} -> "
        f"{record.objective_after:.3g}, correlation with the photo "
        f"{record.correlation_with_photo:.2f}"
    )


def batch_metrics(
    kind: str,
    photo: str,
    objectives: Sequence[str],
    measured: tuple[np.ndarray, np.ndarray, np.ndarray],
    details: Sequence[dict[str, Any]],
) -> list[RenderMetrics]:
    """One record per render of a batch; ``measured`` = (objective before, after, correlation)."""
    before, after, correlation = measured
    return [
        RenderMetrics(photo, kind, objective, float(start), float(end), float(kept), detail)
        for objective, start, end, kept, detail in zip(
            objectives, before, after, correlation, details
        )
    ]


def single_map_metrics(
    dreams: SingleMapDreams, photo: str, single_map: SingleMap
) -> list[RenderMetrics]:
    """One record per dreamed map."""
    height, width = dreams.small.shape[1:3]
    climbed = {
        "layer": single_map.layer,
        "maps": list(dreams.maps),
        "rounds": single_map.rounds,
        "steps": single_map.steps,
        "epsilon": single_map.epsilon,
    }
    shared = {
        "measured_on": f"the image shrunk to {height}x{width}, in the model's input range",
        "settings": climbed,
    }
    return batch_metrics(
        "single_map",
        photo,
        [describe_map(single_map.layer, index) for index in dreams.maps],
        (dreams.objective_before, dreams.objective_after, dreams.correlation),
        [
            {"layer": single_map.layer, "map": index, **shared,
             "objective_after_each_round": rounds.tolist()}
            for index, rounds in zip(dreams.maps, dreams.objective_rounds)
        ],
    )


def layer_metrics(dream: OctaveDream, photo: str, layers: LayerDream) -> RenderMetrics:
    """The record of a layer dream."""
    weights = nonzero_weights(layers.weights)
    climbed = {
        "weights": weights,
        "octaves": layers.octaves,
        "octave_scale": layers.octave_scale,
        "climb": climb_record(layers),
    }
    details = {
        "measured_on": FULL_SIZE,
        "octave_shapes": [list(octave.shape) for octave in dream.octaves],
        "objective_before_and_after_each_octave": dream.objective_octaves,
        "settings": climbed,
    }
    return RenderMetrics(
        photo, "layer_dream", describe_mix(weights), dream.objective_before,
        dream.objective_after, dream.correlation, details,
    )


def fine_metrics(
    dreams: FineDreams, photo: str, fine: FineDream, layer: str
) -> list[RenderMetrics]:
    """One record per full-size render; ``fine.maps`` are maps of ``layer``."""
    weights = nonzero_weights(fine.weights)
    maps = unique_maps(fine.maps)
    climbed = {"weights": weights, "layer": layer, "maps": list(maps), "climb": climb_record(fine)}
    objectives = ([describe_mix(weights)] if weights else []) + [
        describe_map(layer, index) for index in maps
    ]
    return batch_metrics(
        "fine_dream",
        photo,
        objectives,
        (dreams.objective_before, dreams.objective_after, dreams.correlation),
        [
            {"render": name, "measured_on": FULL_SIZE, "settings": climbed}
            for name in dreams.names
        ],
    )


def climb_record(section: LayerDream | FineDream) -> dict[str, Any]:
    """The ascent of a section as the records show it: steps, epsilon, max_shift."""
    return {"steps": section.steps, "epsilon": section.epsilon, "max_shift": section.max_shift}
