"""What a variant of the OIP search scores on a layer, the stage's summary, and its Markdown
table (the README's table is this function of ``summary.csv``). No TensorFlow.

Scores of a (layer, variant), over the layer's maps (T) and their restarts (R):

* ``zero_starts``: share of the T x R starts at objective exactly 0 (before the screen);
* ``objective_over_test``: median over the maps of the OIP's objective divided by the best
  test image's (maps that some test image drives);
* ``beats_test``: share of maps whose OIP beats every test image;
* ``restart_similarity``, ``shifted_similarity``: median over the maps of the mean pairwise
  correlation of the restarts' images (:mod:`cnnlens.oip.similarity`), unshifted and allowing
  shifts of up to :data:`~cnnlens.oip.similarity.SIMILARITY_SHIFT` pixels;
* ``dead``: maps no restart woke; ``seconds``: wall time of the variant's search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cnnlens.errors import CnnLensError
from cnnlens.oip.results import SearchResult
from cnnlens.oip.similarity import SIMILARITY_SHIFT, restart_similarity

SCORE_COLUMNS = (
    "layer",
    "variant",
    "maps",
    "restarts",
    "zero_starts",
    "objective_over_test",
    "beats_test",
    "restart_similarity",
    "shifted_similarity",
    "dead",
    "seconds",
)
#: The scores a figure compares (columns of :data:`SCORE_COLUMNS`).
SCORES = SCORE_COLUMNS[4:]


def objective_over_test(objective: np.ndarray, test_max: np.ndarray) -> float:
    """Median over the maps some test image drives (test max > 0) of objective / test max;
    NaN when there is none."""
    driven = test_max > 0
    if not driven.any():
        return float("nan")
    return float(np.median(objective[driven] / test_max[driven]))


def beats_test(objective: np.ndarray, test_max: np.ndarray) -> float:
    """Share of maps whose objective exceeds every test image's (NaN without test images)."""
    if not np.isfinite(test_max).all():
        return float("nan")
    return float(np.mean(objective > test_max))


def median_similarity(images: np.ndarray, alive: np.ndarray, max_shift: int = 0) -> float:
    """Median over the maps of their restarts' similarity (maps with two restarts that fire);
    NaN when no map has."""
    values = restart_similarity(images, alive, max_shift)
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else float("nan")


def score_row(
    layer: str, variant: str, result: SearchResult, zero_starts: np.ndarray, seconds: float
) -> dict[str, Any]:
    """The scores of one variant on one layer, formatted for ``summary.csv``."""
    alive = result.restart_objectives > 0
    return {
        "layer": layer,
        "variant": variant,
        "maps": len(result.maps),
        "restarts": result.restart_objectives.shape[1],
        "zero_starts": _format(np.mean(zero_starts)),
        "objective_over_test": _format(objective_over_test(result.objective, result.test_max)),
        "beats_test": _format(beats_test(result.objective, result.test_max)),
        "restart_similarity": _format(median_similarity(result.restart_images, alive)),
        "shifted_similarity": _format(
            median_similarity(result.restart_images, alive, SIMILARITY_SHIFT)
        ),
        "dead": int(result.dead.sum()),
        "seconds": f"{seconds:.1f}",
    }


def _format(value: float) -> str:
    return "" if not np.isfinite(value) else f"{float(value):.3f}"


def summary_rows(
    layer_rows: Sequence[Sequence[Mapping[str, str]]],
    layers: Sequence[str],
    variants: Sequence[str],
) -> list[dict[str, str]]:
    """The layers' score rows as one table, one row per (layer, variant) in config order;
    raises unless every pair is there exactly once."""
    rows = {(row["layer"], row["variant"]): dict(row) for part in layer_rows for row in part}
    wanted = [(layer, variant) for layer in layers for variant in variants]
    count = sum(len(part) for part in layer_rows)
    if set(rows) != set(wanted) or count != len(wanted):
        raise CnnLensError(
            f"the layers' scores hold {sorted(rows)}, expected each of {wanted} once; delete "
            "results/oip_study and rerun"
        )
    return [rows[pair] for pair in wanted]


def markdown_table(rows: Sequence[Mapping[str, str]]) -> str:
    """``summary.csv``'s rows as a Markdown table (numbers right-aligned, as written)."""
    header = "| " + " | ".join(f"`{column}`" for column in SCORE_COLUMNS) + " |"
    aligns = "| " + " | ".join("---" if i < 2 else "---:" for i in range(len(SCORE_COLUMNS)))
    lines = [header, aligns + " |"]
    for row in rows:
        lines.append("| " + " | ".join(str(row[column]) for column in SCORE_COLUMNS) + " |")
    return "\n".join(lines) + "\n"
