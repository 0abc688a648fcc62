"""The stage's summary: its per-image figures' names, deletion.csv read back as curves, and
the Markdown index of the stage's files. NumPy only (the rule file uses it)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from cnnlens.attribution.records import TITLES
from cnnlens.files import read_csv

CURVE_COLUMNS = ("method", "fraction", "probability")
FIGURES = "results/attribution/images"  # test_{index}.png for every selected test image


def figure_paths(directory: str | os.PathLike) -> list[Path]:
    """The per-image figures ``test_{index}.png`` in ``directory``, by test index."""
    return sorted(Path(directory).glob("test_*.png"), key=lambda path: int(path.stem[5:]))


def read_curves(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """deletion.csv as {method: (fractions, mean probabilities)}, methods in file order."""
    points: dict[str, list[tuple[float, float]]] = {}
    for row in read_csv(path):
        points.setdefault(row["method"], []).append(
            (float(row["fraction"]), float(row["probability"]))
        )
    return {
        method: (np.array([x for x, _ in pairs]), np.array([y for _, y in pairs]))
        for method, pairs in points.items()
    }


def index_page(
    summary: Sequence[Mapping[str, str]], figures: Sequence[str | os.PathLike], layer: str
) -> str:
    """results/attribution/index.md: the deletion table and a link to every image's figure."""
    lines = [
        "# Attribution",
        "",
        (
            f"Deletion curves over {summary[0]['images']} test images ([figure](deletion.png), "
            "[curves](deletion.csv)): the mean probability of the predicted class as the most "
            "attributed pixels are set to the black baseline; a smaller area means the "
            "method's pixels matter more."
        ),
        "",
        "| method | area under the curve | p with 10 % deleted | p with 20 % deleted |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in summary:
        name = TITLES.get(row["method"], row["method"]).replace("\n", " ")
        lines.append(
            f"| {name} | {row['area']} | {row['probability_at_10pct']} | "
            f"{row['probability_at_20pct']} |"
        )
    lines += [
        "",
        (
            "Per selected test image, every method for the predicted class and the runner-up; "
            f"[maps.csv](maps.csv) ranks {layer}'s maps for each class by activation x gradient."
        ),
        "",
    ]
    lines += [
        f"- [{Path(figure).stem}]({Path(figure).parent.name}/{Path(figure).name})"
        for figure in figures
    ]
    return "\n".join(lines) + "\n"
