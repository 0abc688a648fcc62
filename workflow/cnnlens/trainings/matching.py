"""Maps of two runs matched one to one, and what the matching says per layer.

The assignment maximises the summed correlation over all pairs (the Hungarian method,
:func:`scipy.optimize.linear_sum_assignment`), so a map is never matched twice. No TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from cnnlens.resolution import spread

MATCHING_COLUMNS = ("run_a", "run_b", "map_a", "map_b", "r")
SUMMARY_COLUMNS = ("layer", "run_a", "run_b", "maps", "matched", "share", "median_r")
#: the README's and summary.md's table: its header, from summary.csv's columns
TABLE_HEADER = (
    "| layer | runs | maps | matched (r >= {threshold}) | share | median r |\n"
    "| --- | --- | ---: | ---: | ---: | ---: |"
)


def match_maps(correlation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each map i of run a (rows of ``correlation``), its partner in run b and their r,
    assigned one to one so that the summed r is largest."""
    rows, columns = linear_sum_assignment(correlation, maximize=True)
    partners = np.full(correlation.shape[0], -1)
    partners[rows] = columns
    values = np.full(correlation.shape[0], np.nan)
    values[rows] = correlation[rows, columns]
    return partners, values


def matching_rows(correlation: np.ndarray, run_b: int) -> list[dict[str, Any]]:
    """One row per map of run 0: its partner in run ``run_b`` and their r."""
    partners, values = match_maps(correlation)
    return [
        {"run_a": 0, "run_b": run_b, "map_a": index, "map_b": int(partner), "r": f"{value:.6f}"}
        for index, (partner, value) in enumerate(zip(partners, values))
    ]


def summary_row(layer: str, rows: Sequence[Mapping[str, Any]], threshold: float) -> dict:
    """A layer's matching of run 0 with one run: how many maps have a partner with r at least
    ``threshold``, their share, and the median r."""
    values = np.array([float(row["r"]) for row in rows])
    matched = int(np.sum(values >= threshold))
    return {
        "layer": layer,
        "run_a": rows[0]["run_a"],
        "run_b": rows[0]["run_b"],
        "maps": len(values),
        "matched": matched,
        "share": f"{matched / len(values):.4f}",
        "median_r": f"{np.median(values):.4f}",
    }


def match_runs(
    correlations: Mapping[tuple[str, int], np.ndarray], layers: Sequence[str], threshold: float
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """From {(layer, run k): r of run 0's maps with run k's}: per layer, the matching rows of
    every run k; and the summary, a row per layer and run k."""
    matchings: dict[str, list[dict[str, Any]]] = {layer: [] for layer in layers}
    summary = []
    for layer in layers:
        for run in sorted(run for name, run in correlations if name == layer):
            rows = matching_rows(correlations[layer, run], run)
            matchings[layer] += rows
            summary.append(summary_row(layer, rows, threshold))
    return matchings, summary


def summary_table(rows: Sequence[Mapping[str, Any]], threshold: float) -> str:
    """summary.csv's rows as the Markdown table of the README (values as in the CSV)."""
    lines = [TABLE_HEADER.format(threshold=threshold)]
    for row in rows:
        lines.append(
            f"| {row['layer']} | {row['run_a']} vs {row['run_b']} | {row['maps']} | "
            f"{row['matched']} | {row['share']} | {row['median_r']} |"
        )
    return "\n".join(lines) + "\n"


def shown_pairs(rows: Sequence[Mapping[str, Any]], count: int) -> list[Mapping[str, Any]]:
    """``count`` matched pairs spread from the best-matched (highest r) to the worst."""
    ranked = sorted(rows, key=lambda row: (-float(row["r"]), int(row["map_a"])))
    return [ranked[position] for position in spread(count, len(ranked))]
