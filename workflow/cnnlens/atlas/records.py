"""What the atlas knows of each layer's units, saved between its two jobs, and the
machine-readable top-k lists (``top_images.csv``, ``top_positions.csv``). No TensorFlow."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from cnnlens.activations.examples import class_name
from cnnlens.atlas.ranking import class_profile, most_active, top_indices
from cnnlens.files import load_arrays, save_arrays, write_csv

NAME_COLUMNS = ("label_name", "predicted_name")
TOP_IMAGES_COLUMNS = ("unit", "rank", "test_index", "activation", "label", "predicted",
                      *NAME_COLUMNS)
TOP_POSITIONS_COLUMNS = (*TOP_IMAGES_COLUMNS[:4], "row", "column", "label", "predicted",
                         *NAME_COLUMNS)


@dataclass
class UnitTable:
    """One layer's units (U), their top k test images both ways, their class profiles, and
    the S selected test images' activations."""

    layer: str
    top_index: np.ndarray  # (U, k) test images by the unit's activation, highest first
    top_value: np.ndarray  # (U, k) those activations
    best_index: np.ndarray  # (U, k) test images by the unit's best position
    best_value: np.ndarray  # (U, k) the value there
    best_position: np.ndarray  # (U, k, 2) (row, column) of the best position
    profile_mean: np.ndarray  # (U, classes) mean activation per class
    profile_firing: np.ndarray  # (U, classes) share of the class's images with activation > 0
    selected_index: np.ndarray  # (S,) the selected test images
    selected_activation: np.ndarray  # (S, U) their per-unit activations
    selected_maps: np.ndarray  # (S, *layer shape) their full activations

    @property
    def units(self) -> int:
        return int(self.top_index.shape[0])

    def save(self, path: str | os.PathLike) -> None:
        arrays = {item.name: getattr(self, item.name) for item in fields(self)}
        arrays["layer"] = np.array(self.layer)
        save_arrays(path, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> UnitTable:
        arrays = load_arrays(path)
        values = {item.name: arrays[item.name] for item in fields(cls)}
        values["layer"] = str(values["layer"])
        return cls(**values)


def unit_table(
    readout, selected_index: np.ndarray, labels: np.ndarray, classes: int, k: int
) -> UnitTable:
    """The :class:`UnitTable` of a :class:`cnnlens.atlas.readout.LayerReadout` whose
    selected images are ``selected_index``; ``labels`` of all its test images."""
    top = top_indices(readout.activation, k)
    best = top_indices(readout.best, k)
    units = np.arange(readout.activation.shape[1])[:, None]
    profile = class_profile(readout.activation, labels, classes)
    selected = readout.selected
    per_unit = selected if selected.ndim == 2 else selected.mean(axis=(1, 2))
    return UnitTable(
        layer=readout.name,
        top_index=top,
        top_value=readout.activation[top, units],
        best_index=best,
        best_value=readout.best[best, units],
        best_position=readout.best_position[best, units],
        profile_mean=profile.mean,
        profile_firing=profile.firing,
        selected_index=np.asarray(selected_index, np.int64),
        selected_activation=per_unit.astype(np.float32),
        selected_maps=selected.astype(np.float32),
    )


def most_active_units(table: UnitTable, image: int, k: int) -> np.ndarray:
    """The ``k`` units most active on selected image number ``image`` (its row)."""
    return most_active(table.selected_activation[image], k)


def classes_of(
    index: int, labels: np.ndarray, predicted: np.ndarray, class_names: Sequence[str]
) -> dict[str, Any]:
    """A test image's label and prediction, by number and by name."""
    label, call = int(labels[index]), int(predicted[index])
    return {"label": label, "predicted": call, "label_name": class_name(class_names, label),
            "predicted_name": class_name(class_names, call)}


def top_rows(
    table: UnitTable, labels: np.ndarray, predicted: np.ndarray, class_names: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """``top_images.csv``: one row per unit and rank, by the unit's activation."""
    return ranked_rows(table.top_index, table.top_value, None, labels, predicted, class_names)


def position_rows(
    table: UnitTable, labels: np.ndarray, predicted: np.ndarray, class_names: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """``top_positions.csv``: one row per unit and rank, by the unit's best position."""
    return ranked_rows(
        table.best_index, table.best_value, table.best_position, labels, predicted, class_names
    )


def ranked_rows(
    indices: np.ndarray,
    values: np.ndarray,
    positions: np.ndarray | None,
    labels: np.ndarray,
    predicted: np.ndarray,
    class_names: Sequence[str],
) -> list[dict[str, Any]]:
    """One row per unit and rank: the test image, its value, its position (row, column) when
    ``positions`` are given, its label and prediction."""
    rows = []
    for unit, ranked in enumerate(indices):
        for rank, index in enumerate(ranked):
            row = {
                "unit": unit,
                "rank": rank + 1,
                "test_index": int(index),
                "activation": f"{float(values[unit, rank]):.6g}",
            }
            if positions is not None:
                row["row"] = int(positions[unit, rank, 0])
                row["column"] = int(positions[unit, rank, 1])
            rows.append({**row, **classes_of(index, labels, predicted, class_names)})
    return rows


def write_tables(
    table: UnitTable,
    directory: str | os.PathLike,
    labels: np.ndarray,
    predicted: np.ndarray,
    class_names: Sequence[str] = (),
) -> None:
    """``{directory}/top_images.csv`` and ``top_positions.csv`` of one layer (labels and
    predictions by number and by class name)."""
    write_csv(os.path.join(directory, "top_images.csv"),
              top_rows(table, labels, predicted, class_names), TOP_IMAGES_COLUMNS)
    write_csv(os.path.join(directory, "top_positions.csv"),
              position_rows(table, labels, predicted, class_names), TOP_POSITIONS_COLUMNS)
