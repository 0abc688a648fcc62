"""Two classes compared map by map: the standardised mean difference (Cohen's d) and the
area under the ROC curve of every map's mean activation, the ranking they give, how often
each map is active at all (a map never active is a dead ReLU), and the per-layer summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnlens.activations.examples import class_name
from cnnlens.activations.statistics import ClassStatistics
from cnnlens.errors import CnnLensError


def effect_size(
    mean_first: np.ndarray,
    variance_first: np.ndarray,
    count_first: int,
    mean_second: np.ndarray,
    variance_second: np.ndarray,
    count_second: int,
) -> np.ndarray:
    """Cohen's d: (mean_first - mean_second) / pooled standard deviation, elementwise.

    Variances are population variances (ddof 0) of each group; units constant in both groups
    get d = 0.
    """
    pooled = np.sqrt(
        (count_first * variance_first + count_second * variance_second)
        / (count_first + count_second - 2)
    )
    difference = mean_first - mean_second
    safe = np.where(pooled > 0, pooled, 1.0)
    return np.where(pooled > 0, difference / safe, 0.0)


def area_under_curve(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Per column: P(first > second) + P(first == second) / 2 for a random pair of rows.

    The area under the ROC curve of a threshold on that unit: 1 or 0 separate the classes
    perfectly, 0.5 not at all. Vectorised: every column is shifted into its own value range so
    that one sorted array and one ``searchsorted`` serve all columns.
    """
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    columns = first.shape[1]
    low = min(first.min(), second.min())
    span = max(first.max(), second.max()) - low + 1.0
    offsets = np.arange(columns) * span
    reference = np.sort(second - low + offsets, axis=0).T.ravel()
    queries = first - low + offsets
    start = np.arange(columns) * len(second)
    below = np.searchsorted(reference, queries, side="left") - start
    ties = np.searchsorted(reference, queries, side="right") - start - below
    return (below.sum(axis=0) + 0.5 * ties.sum(axis=0)) / (len(first) * len(second))


@dataclass(frozen=True)
class Comparison:
    """Two classes compared on one layer: mean activations, their difference, and effect
    sizes per unit (``point_effect``, activation-shaped) and per map or node (``map_*``).
    ``classes`` says that the layer is the model's output, one node per class."""

    layer: str
    first: int
    second: int
    counts: tuple[int, int]
    mean_first: np.ndarray
    mean_second: np.ndarray
    point_effect: np.ndarray
    map_effect: np.ndarray
    map_auc: np.ndarray
    map_mean_first: np.ndarray
    map_mean_second: np.ndarray
    map_sd_first: np.ndarray
    map_sd_second: np.ndarray
    active_first: np.ndarray
    active_second: np.ndarray
    classes: bool

    @property
    def difference(self) -> np.ndarray:
        return self.mean_first - self.mean_second

    @property
    def is_spatial(self) -> bool:
        return self.mean_first.ndim == 3

    @property
    def unit_name(self) -> str:
        return "map" if self.is_spatial else "node"

    def silent_units(self) -> np.ndarray:
        """Maps or nodes that are zero on every image of both classes (dead ReLUs)."""
        return np.flatnonzero((self.active_first == 0) & (self.active_second == 0))

    def ranking(self) -> np.ndarray:
        """Maps or nodes ordered by |effect size|, largest first (ties: lower index first)."""
        units = np.arange(len(self.map_effect))
        return units[np.lexsort((units, -np.abs(self.map_effect)))]

    def strongest_points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per map: row, column and effect size of its position with the largest |d|."""
        per_map = np.moveaxis(self.point_effect, -1, 0).reshape(len(self.map_effect), -1)
        flat = np.abs(per_map).argmax(axis=1)
        rows, columns = np.unravel_index(flat, self.point_effect.shape[:2])
        return rows, columns, per_map[np.arange(len(flat)), flat]


def class_members(statistics: ClassStatistics, class_label: int) -> np.ndarray:
    """Which images are of class ``class_label``: a boolean mask, or an error if there are < 2."""
    members = statistics.labels == class_label
    if members.sum() < 2:
        raise CnnLensError(
            f"the test set has {members.sum()} image(s) of class {class_label}, too few to "
            "compare; use more test images (data.subset.test) or another pair in "
            "activations.pairs"
        )
    return members


def compare_classes(
    statistics: ClassStatistics, layer: str, first: int, second: int
) -> Comparison:
    """Compare classes ``first`` and ``second`` on ``layer``."""
    stats = statistics.layer(layer)
    in_first, in_second = class_members(statistics, first), class_members(statistics, second)
    count_first, count_second = int(stats.counts[first]), int(stats.counts[second])
    means_first = stats.map_means[in_first].astype(np.float64)
    means_second = stats.map_means[in_second].astype(np.float64)
    return Comparison(
        layer=layer,
        first=first,
        second=second,
        counts=(count_first, count_second),
        mean_first=stats.mean[first],
        mean_second=stats.mean[second],
        point_effect=effect_size(
            stats.mean[first], stats.variance[first], count_first,
            stats.mean[second], stats.variance[second], count_second,
        ),
        map_effect=effect_size(
            means_first.mean(0), means_first.var(0), count_first,
            means_second.mean(0), means_second.var(0), count_second,
        ),
        map_auc=area_under_curve(means_first, means_second),
        map_mean_first=means_first.mean(0),
        map_mean_second=means_second.mean(0),
        map_sd_first=means_first.std(0, ddof=1),
        map_sd_second=means_second.std(0, ddof=1),
        active_first=(means_first > 0).mean(0),
        active_second=(means_second > 0).mean(0),
        classes=layer == statistics.output_layer,
    )


def compare_layers(
    statistics: ClassStatistics, layers: Sequence[str], first: int, second: int
) -> list[Comparison]:
    """:func:`compare_classes` for every layer of ``layers``, in that order."""
    return [compare_classes(statistics, layer, first, second) for layer in layers]


def ranking_rows(
    comparison: Comparison, class_names: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The ranking CSV: every map or node, best separating first, with its statistics; the
    output layer's nodes also by their class name (last column ``class_name``)."""
    first, second = comparison.first, comparison.second
    unit = comparison.unit_name
    if comparison.is_spatial:
        point_rows, point_columns, point_effects = comparison.strongest_points()
    rows = []
    for rank, index in enumerate(comparison.ranking(), start=1):
        row = {
            "rank": rank,
            unit: int(index),
            "effect_size": round(float(comparison.map_effect[index]), 4),
            "auc": round(float(comparison.map_auc[index]), 4),
            f"mean_{first}": round(float(comparison.map_mean_first[index]), 5),
            f"mean_{second}": round(float(comparison.map_mean_second[index]), 5),
            f"sd_{first}": round(float(comparison.map_sd_first[index]), 5),
            f"sd_{second}": round(float(comparison.map_sd_second[index]), 5),
            f"active_{first}": round(float(comparison.active_first[index]), 4),
            f"active_{second}": round(float(comparison.active_second[index]), 4),
        }
        if comparison.is_spatial:
            row.update(
                best_row=int(point_rows[index]),
                best_column=int(point_columns[index]),
                best_point_effect_size=round(float(point_effects[index]), 4),
            )
        if comparison.classes:
            row["class_name"] = class_name(class_names, index)
        rows.append(row)
    return rows


def separation_rows(
    comparisons: Sequence[Comparison], large_effect: float, class_names: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Per layer: how well its best map or node (largest |Cohen's d| of the per-image map
    means; ``best_auc`` is its AUC folded to 0.5..1) and its maps or nodes overall separate
    the two classes (``max_auc``: the largest folded AUC of any unit); the classes' names in
    the last two columns."""
    rows = []
    for comparison in comparisons:
        magnitude = np.abs(comparison.map_effect)
        best = int(comparison.ranking()[0])
        folded_auc = np.maximum(comparison.map_auc, 1 - comparison.map_auc)
        rows.append(
            {
                "layer": comparison.layer,
                "units": len(magnitude),
                "unit": comparison.unit_name,
                f"images_{comparison.first}": comparison.counts[0],
                f"images_{comparison.second}": comparison.counts[1],
                "best_unit": best,
                "best_effect_size": round(float(comparison.map_effect[best]), 4),
                "best_auc": round(float(folded_auc[best]), 4),
                "max_auc": round(float(folded_auc.max()), 4),
                "median_abs_effect_size": round(float(np.median(magnitude)), 4),
                "large_effect_units": int((magnitude >= large_effect).sum()),
                "large_effect_fraction": round(float((magnitude >= large_effect).mean()), 4),
                "silent_units": int(comparison.silent_units().size),
                "first_name": class_name(class_names, comparison.first),
                "second_name": class_name(class_names, comparison.second),
            }
        )
    return rows
