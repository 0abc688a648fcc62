"""Every test image through the model once, reduced per unit as the atlas needs it.

Per layer: each unit's activation (mean over positions for conv maps, the value for dense
nodes, the logit for the output layer, softmax or linear), its largest value over positions
and where that is, and the full activations of the selected test images (their image pages
show them). The model's class probabilities come along (a linear output layer's logits through
a softmax). Batches keep memory bounded (a conv layer's full
activations of 10,000 images would take about 1 GB).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from cnnlens.activations.readout import as_probabilities, is_softmax, readout_batches

BATCH_SIZE = 500
#: The readout's last output, the class probabilities, by the name it is read under.
PROBABILITIES = "probabilities"


@dataclass
class LayerReadout:
    """What the atlas keeps of one layer for N test images and S selected ones."""

    name: str
    activation: np.ndarray  # (N, units) mean over positions, or the node's value / logit
    best: np.ndarray  # (N, units) largest value over positions (= activation for dense)
    best_position: np.ndarray  # (N, units, 2) (row, column) of it; (0, 0) for dense
    selected: np.ndarray  # (S, *layer shape) activations of the selected images


def outputs_model(model: keras.Model, layers: Sequence[str]) -> keras.Model:
    """A model giving each of ``layers``' outputs; a softmax layer gives its input instead
    (its logits are computed from it, see :func:`logits`)."""
    tensors = [
        model.get_layer(name).input if is_softmax(model.get_layer(name))
        else model.get_layer(name).output
        for name in layers
    ]
    return keras.Model(model.inputs[0], [*tensors, model.outputs[0]], name="atlas_readout")


def logits(layer: keras.layers.Layer, inputs: np.ndarray) -> np.ndarray:
    """The values of a dense softmax ``layer`` before its softmax."""
    kernel, bias = layer.get_weights()
    return inputs @ kernel + bias


def read_layers(
    model: keras.Model,
    images: np.ndarray,
    layers: Sequence[str],
    selected: Sequence[int],
    batch_size: int = BATCH_SIZE,
) -> tuple[list[LayerReadout], np.ndarray]:
    """The :class:`LayerReadout` of every layer of ``layers`` and the probabilities (N, C)
    (the softmax of the outputs of a model whose last layer is linear)."""
    readout = outputs_model(model, layers)
    selected = np.asarray(selected, np.int64)
    ascending = np.sort(selected)
    parts: list[list[tuple[np.ndarray, ...]]] = [[] for _ in layers]
    probabilities = []
    names = [*layers, PROBABILITIES]
    for batch, outputs in readout_batches(readout, images, names, batch_size):
        probabilities.append(outputs[PROBABILITIES])
        chosen = ascending[(ascending >= batch.start) & (ascending < batch.stop)] - batch.start
        for slot, name in enumerate(layers):
            values = np.asarray(outputs[name], np.float32)
            if is_softmax(model.get_layer(name)):
                values = logits(model.get_layer(name), values).astype(np.float32)
            parts[slot].append((*reduce_units(values), values[chosen]))
    results = [_gather(name, layer_parts, selected) for name, layer_parts in zip(layers, parts)]
    return results, as_probabilities(model, np.concatenate(probabilities))


def reduce_units(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(activation, best, best position) of a batch's values (B, H, W, U) or (B, U)."""
    if values.ndim == 2:
        return values, values, np.zeros((*values.shape, 2), np.int64)
    batch, height, width, units = values.shape
    flat = values.reshape(batch, height * width, units)
    where = flat.argmax(axis=1)
    position = np.stack(np.unravel_index(where, (height, width)), axis=-1)
    return flat.mean(axis=1), flat.max(axis=1), position.astype(np.int64)


def _gather(name: str, parts: list, selected: np.ndarray) -> LayerReadout:
    """One layer's batches joined; the selected images (read in increasing index order) put
    in the order of ``selected``."""
    activation, best, position, chosen = (np.concatenate(items) for items in zip(*parts))
    order = np.searchsorted(np.sort(selected), selected)
    return LayerReadout(name, activation, best, position, chosen[order])
