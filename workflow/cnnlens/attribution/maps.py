"""From a class back to the last conv layer's maps: each map's activation x gradient (the sum
over its positions of activation times d logit / d activation, the map's first-order share of
the class's logit), ranked, each map named with its OIP and its atlas page. NumPy only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cnnlens.attribution.records import ROLES, SelectedAttributions

COLUMNS = (
    "test_index", "label", "role", "class", "class_name", "probability", "rank", "map", "score",
    "oip", "atlas_page",
)


def ranked_maps(scores: np.ndarray) -> np.ndarray:
    """The maps in order of their score, largest first (ties: the lower map first)."""
    return np.argsort(-np.asarray(scores), kind="stable")


def oip_file(layer: str, unit: int) -> str:
    """The map's OIP figure (made by the OIP stage when the layer is in oip.layers)."""
    return f"results/oips/{layer}/map_{unit:03d}.png"


def atlas_page(layer: str, unit: int) -> str:
    """The map's page in the atlas."""
    return f"results/atlas/{layer}/unit_{unit:03d}.html"


def map_rows(selected: SelectedAttributions, class_names: Sequence[str]) -> list[dict[str, Any]]:
    """One row per selected image, explained class (predicted, runner-up) and map, ranked."""
    rows = []
    for position, index in enumerate(selected.indices):
        for slot, role in enumerate(ROLES):
            label = int(selected.classes[position, slot])
            scores = selected.map_scores[position, slot]
            for rank, unit in enumerate(ranked_maps(scores), start=1):
                rows.append({
                    "test_index": int(index),
                    "label": int(selected.labels[position]),
                    "role": role,
                    "class": label,
                    "class_name": class_names[label],
                    "probability": f"{selected.probabilities[position, label]:.6g}",
                    "rank": rank,
                    "map": int(unit),
                    "score": f"{scores[unit]:.6g}",
                    "oip": oip_file(selected.layer, int(unit)),
                    "atlas_page": atlas_page(selected.layer, int(unit)),
                })
    return rows


def top_maps_text(scores: np.ndarray, count: int) -> str:
    """``map 5 (1.23), map 77 (0.91), ...``: the ``count`` maps with the largest scores."""
    return ", ".join(f"map {unit} ({scores[unit]:.2f})" for unit in ranked_maps(scores)[:count])
