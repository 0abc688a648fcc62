"""What each page of the atlas shows, as plain data for its template (writing the page's
pictures on the way through :class:`cnnlens.atlas.assets.Assets`).

Paths in a page's data are relative to that page: unit and layer pages live in ``{layer}/``,
image pages in ``images/``, the index at the root; ``root`` leads back to the root.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnlens.atlas.assets import Assets, oip_of
from cnnlens.atlas.records import UnitTable, most_active_units
from cnnlens.atlas.sources import AtlasData
from cnnlens.network import Layer

#: Pixels a side of the crops and of the test images the crops are marked on.
CROP_PIXELS = 84


def unit_page(layer: str, unit: int) -> str:
    """A unit page's path from the root."""
    return f"{layer}/unit_{unit:03d}.html"


def image_page(index: int) -> str:
    """A test image page's path from the root."""
    return f"images/test_{index:05d}.html"


def unit_noun(layer: Layer) -> str:
    return "map" if layer.spatial else "node"


def value_noun(data: AtlasData, layer: Layer) -> str:
    """What a unit's activation is: a mean over positions, a node's value, or a logit."""
    if layer.spatial:
        return "mean activation"
    return "logit" if layer.name == data.network.layers[-1].name else "activation"


def output_class(data: AtlasData, layer: Layer, unit: int) -> str | None:
    """The class a node of the output layer stands for (None for other layers' units)."""
    return data.class_name(unit) if layer.name == data.network.layers[-1].name else None


def format_value(value: float) -> str:
    return f"{float(value):.3g}"


def example(
    data: AtlasData, assets: Assets, index: int, value: float, prefix: str = "../"
) -> dict[str, Any]:
    """One test image as a page shows it (paths from a page at ``prefix`` to the root)."""
    page = image_page(index) if index in data.reasons else None
    return {
        "index": int(index),
        "thumb": prefix + assets.test_image(data.test_images, index),
        "value": format_value(value),
        "label": int(data.labels[index]),
        "predicted": int(data.predicted[index]),
        "label_name": data.class_name(data.labels[index]),
        "predicted_name": data.class_name(data.predicted[index]),
        "wrong": bool(data.labels[index] != data.predicted[index]),
        "page": None if page is None else prefix + page,
    }


def crop(layer: Layer, position: np.ndarray, image_shape: tuple[int, int]) -> dict[str, Any]:
    """CSS boxes of a unit's receptive field at ``position``: the crop (the test image
    enlarged and moved inside a small window) and the frame marking it on the whole image."""
    rows, columns = layer.window(int(position[0]), int(position[1]))
    height, width = image_shape
    top, bottom = rows.start, min(rows.stop, height)
    left, right = columns.start, min(columns.stop, width)
    scale = CROP_PIXELS / max(bottom - top, right - left)
    whole = CROP_PIXELS / max(height, width)
    return {
        "window": f"rows {top}-{bottom - 1}, columns {left}-{right - 1}",
        "crop_box": f"width:{(right - left) * scale:.1f}px;height:{(bottom - top) * scale:.1f}px",
        "crop_image": (
            f"width:{width * scale:.1f}px;height:{height * scale:.1f}px;"
            f"margin-left:{-left * scale:.1f}px;margin-top:{-top * scale:.1f}px"
        ),
        "frame": (
            f"left:{left * whole:.1f}px;top:{top * whole:.1f}px;"
            f"width:{(right - left) * whole:.1f}px;height:{(bottom - top) * whole:.1f}px"
        ),
    }


def oip_section(data: AtlasData, assets: Assets, layer: str, unit: int) -> dict | None:
    """The unit's OIP: both views, every restart, the evolution; None without a search."""
    result = data.oips.get(layer)
    row = oip_of(result, unit)
    if row is None:
        return None
    plain, enhanced = assets.oip_views(layer, unit, result.oips[row])
    best = int(result.best_restart[row])
    return {
        "plain": "../" + plain,
        "enhanced": "../" + enhanced,
        "objective": format_value(result.objective[row]),
        "dead": bool(result.dead[row]),
        "test_max": format_value(result.test_max[row]),
        "beats_test": bool(result.objective[row] > result.test_max[row]),
        "restarts": "../" + assets.restarts(layer, unit, result.restart_images[row]),
        "restart_values": [format_value(v) for v in result.restart_objectives[row]],
        "best_restart": best,
        "evolution": "../" + assets.evolution(layer, unit, result.snapshots[row]),
        "steps": [int(step) for step in result.snapshot_steps],
        "objectives_at_steps": [
            format_value(result.histories[row, best, step]) for step in result.snapshot_steps
        ],
    }


def profile_rows(data: AtlasData, table: UnitTable, unit: int) -> list[dict[str, Any]]:
    """Per class (by name): mean activation and firing share, with bar widths (percent of the
    largest)."""
    means = table.profile_mean[unit]
    largest = float(np.abs(means).max()) or 1.0
    return [
        {
            "class_label": class_label,
            "name": data.class_name(class_label),
            "mean": format_value(means[class_label]),
            "mean_width": f"{100 * abs(float(means[class_label])) / largest:.1f}",
            "negative": bool(means[class_label] < 0),
            "firing": f"{100 * float(table.profile_firing[unit, class_label]):.1f}",
        }
        for class_label in range(len(means))
    ]


def effect_rows(data: AtlasData, layer: str, unit: int) -> list[dict[str, Any]]:
    rows = []
    for pair, per_unit in data.effects.get(layer, {}).items():
        if unit in per_unit:
            stats = per_unit[unit]
            rows.append({"pair": data.pair_name(pair), "effect_size":
                         f"{stats['effect_size']:.3g}", "auc": f"{stats['auc']:.3g}"})
    return rows


def unit_context(data: AtlasData, assets: Assets, layer: Layer, unit: int) -> dict[str, Any]:
    """Everything the unit page of ``unit`` of ``layer`` shows."""
    table = data.tables[layer.name]
    name = layer.name
    image_shape = data.test_images.shape[1:3]
    best = []
    if layer.spatial:
        for rank, index in enumerate(table.best_index[unit]):
            entry = example(data, assets, index, table.best_value[unit, rank])
            position = table.best_position[unit, rank]
            entry.update(row=int(position[0]), column=int(position[1]),
                         **crop(layer, position, image_shape))
            best.append(entry)
    nodes = data.node_oips.get(unit) if name == data.node_layer else None
    dreams = [
        {"src": "../" + assets.dream(name, unit, f"{dream.photo}_{i}", dream.path),
         "photo": dream.photo, "kind": dream.kind}
        for i, dream in enumerate(data.dreams.get((name, unit), []))
    ]
    return {
        "root": "../",
        "layer": name,
        "unit": unit,
        "class_name": output_class(data, layer, unit),
        "noun": unit_noun(layer),
        "value_noun": value_noun(data, layer),
        "units": table.units,
        "previous": f"unit_{unit - 1:03d}.html" if unit > 0 else None,
        "next": f"unit_{unit + 1:03d}.html" if unit + 1 < table.units else None,
        "oip": oip_section(data, assets, name, unit),
        "nodes": None if nodes is None else {
            "src": "../" + assets.node_grid(name, unit, nodes), "shape": nodes.shape[:2]},
        "top": [example(data, assets, index, table.top_value[unit, rank])
                for rank, index in enumerate(table.top_index[unit])],
        "best": best,
        "crop_pixels": CROP_PIXELS,
        "profile": profile_rows(data, table, unit),
        "effects": effect_rows(data, name, unit),
        "dreams": dreams,
    }


def cell(data: AtlasData, assets: Assets, layer: str, unit: int, prefix: str) -> dict:
    """A unit in a clickable grid: its OIP (or its top test image without one), and whether
    it is dead (no OIP restart made it fire) or silent (no test image makes it fire)."""
    table = data.tables[layer]
    result = data.oips.get(layer)
    row = oip_of(result, unit)
    if row is not None:
        picture = f"{layer}/img/unit_{unit:03d}_oip.png"
        note = format_value(result.objective[row])
    else:
        picture = assets.test_image(data.test_images, int(table.top_index[unit, 0]))
        note = format_value(table.top_value[unit, 0])
    dead = row is not None and bool(result.dead[row])
    silent = float(table.top_value[unit, 0]) <= 0.0
    if dead:
        note += "; dead: no restart made it fire"
    if silent:
        note += "; silent on every test image"
    return {"unit": unit, "link": prefix + unit_page(layer, unit), "src": prefix + picture,
            "note": note, "oip": row is not None, "dead": dead, "silent": silent,
            "class_name": output_class(data, data.network.layer(layer), unit)}


def layer_context(data: AtlasData, assets: Assets, layer: Layer, prefix: str) -> dict[str, Any]:
    """A layer as a clickable grid (paths from a page at ``prefix`` to the root)."""
    table = data.tables[layer.name]
    return {
        "name": layer.name,
        "kind": layer.kind,
        "noun": unit_noun(layer),
        "shape": "x".join(str(side) for side in layer.output_shape),
        "units": table.units,
        "has_oips": layer.name in data.oips,
        "link": prefix + f"{layer.name}/index.html",
        "cells": [cell(data, assets, layer.name, unit, prefix) for unit in range(table.units)],
    }


def image_context(
    data: AtlasData, assets: Assets, position: int, index: int, k: int
) -> dict[str, Any]:
    """Selected test image number ``position`` (test index ``index``): probabilities, and per
    layer its ``k`` most active units, each activation tile beside the unit's OIP."""
    probabilities = data.probabilities[index]
    layers = []
    for name, table in data.tables.items():
        layer = data.network.layer(name)
        values = table.selected_maps[position]
        low, high = min(float(values.min()), 0.0), float(values.max())
        units = []
        for unit in most_active_units(table, position, k):
            entry = cell(data, assets, name, int(unit), "../")
            entry["activation"] = format_value(table.selected_activation[position, unit])
            entry["tile"] = entry["colour"] = None
            if layer.spatial:
                entry["tile"] = "../" + assets.activation_tile(
                    index, name, int(unit), values[..., unit], low, high)
            else:
                entry["colour"] = assets.colour(values[unit], low, high)
            units.append(entry)
        layers.append({"name": name, "noun": unit_noun(layer), "units": units,
                       "value_noun": value_noun(data, layer), "range": [format_value(low),
                                                                        format_value(high)]})
    return {
        "root": "../",
        "index": int(index),
        "thumb": "../" + assets.test_image(data.test_images, index),
        "label": int(data.labels[index]),
        "predicted": int(data.predicted[index]),
        "label_name": data.class_name(data.labels[index]),
        "predicted_name": data.class_name(data.predicted[index]),
        "why": data.reasons.get(index, ""),
        "probabilities": [
            {"class_label": class_label, "name": data.class_name(class_label),
             "p": f"{float(p):.4f}", "width": f"{100 * float(p):.1f}"}
            for class_label, p in enumerate(probabilities)
        ],
        "layers": layers,
    }
