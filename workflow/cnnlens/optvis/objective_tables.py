"""Objectives compiled for an engine, and their evaluation inside its compiled step.

:func:`compile_tables` turns an :class:`~cnnlens.optvis.objectives.Objective` (it names layers)
into :class:`Tables` for one engine (they name its layers by position): per slot (one per
engine layer, more only where a row pools one layer in two ways) a weight table
(batch, channels) and a node mask (batch, height, width) or None, the revival flags and the
penalty weights. :func:`evaluate` is their graph-side evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import tensorflow as tf

from cnnlens.errors import CnnLensError
from cnnlens.optvis.objectives import PENALTY_KINDS, Node, Objective, Term


@dataclass(frozen=True)
class Tables:
    """An objective compiled for one engine: per slot, the engine layer it reads, the weights
    (batch, channels) float32 and the node masks (batch, height, width) float32 or None (mean
    over positions); ``revive`` (batch,) bool."""

    layers: tuple[int, ...]
    weights: tuple[np.ndarray, ...]
    masks: tuple[np.ndarray | None, ...]
    revive: np.ndarray
    penalties: np.ndarray | None = None  # (batch, len(PENALTY_KINDS)) weights, None: none
    groups: np.ndarray | None = None  # (batch,) diversity groups (-1: none)
    diversity_layer: int | None = None  # the engine layer whose Gram matrices diversity reads
    channel: np.ndarray | None = None  # (batch,) each row's one channel, weights (batch, 1)

    @property
    def batch(self) -> int:
        return len(self.revive)

    def take(self, index: slice | np.ndarray) -> Tables:
        """The tables of a subset of the rows."""
        return Tables(
            layers=self.layers,
            weights=tuple(weight[index] for weight in self.weights),
            masks=tuple(None if mask is None else mask[index] for mask in self.masks),
            revive=self.revive[index],
            penalties=None if self.penalties is None else self.penalties[index],
            groups=None if self.groups is None else self.groups[index],
            diversity_layer=self.diversity_layer,
            channel=None if self.channel is None else self.channel[index],
        )


def compile_tables(
    objective: Objective,
    layer_names: Sequence[str],
    channel_counts: Sequence[int],
    spatial_shapes: Sequence[tuple[int | None, int | None]],
) -> Tables:
    """The tables of ``objective`` for an engine of these layers, channels and map sizes."""
    for layer in objective.layers:
        if layer not in layer_names:
            raise CnnLensError(
                f"layer {layer!r} is not a target of this ascent; its layers are "
                f"{', '.join(layer_names)}"
            )
    layers, weights, masks = [], [], []
    for position, (layer, count, shape) in enumerate(
        zip(layer_names, channel_counts, spatial_shapes)
    ):
        poolings = [_poolings(row, layer) for row in objective.rows]
        for slot in range(max([1, *map(len, poolings)])):
            entries = [_entry(pooling, slot) for pooling in poolings]
            layers.append(position)
            weights.append(_weights(entries, layer, count))
            masks.append(_masks([node for node, _ in entries], layer, shape))
    return Tables(
        tuple(layers),
        tuple(weights),
        tuple(masks),
        np.array(objective.revive, bool),
        *_penalty_tables(objective, layer_names),
    )


def narrowed(tables: Tables) -> Tables | None:
    """``tables`` read through one channel per row (:mod:`.channel_layers`): the weights
    (batch, 1) of each row's only weighted channel and that channel in ``channel``; None
    unless every slot reads the engine's one layer, no row weights two channels and no
    diversity term reads all of them."""
    if tables.channel is not None:
        return tables
    if set(tables.layers) != {0} or tables.diversity_layer is not None:
        return None
    weighted = np.stack(tables.weights) != 0  # (slots, batch, channels)
    per_row = weighted.any(axis=0)
    if (per_row.sum(axis=1) > 1).any():
        return None
    channel = per_row.argmax(axis=1)
    rows = np.arange(tables.batch)
    weights = tuple(weight[rows, channel][:, None] for weight in tables.weights)
    return replace(tables, weights=weights, channel=channel.astype(np.int32))


def _penalty_tables(
    objective: Objective, layer_names: Sequence[str]
) -> tuple[np.ndarray | None, np.ndarray | None, int | None]:
    """(penalty weights (batch, kinds), diversity groups (batch,), diversity's engine layer);
    all None when no row has a penalty term."""
    penalties = np.zeros((objective.batch, len(PENALTY_KINDS)), np.float32)
    groups = np.full(objective.batch, -1, np.int64)
    diversity_layers = set()
    for row, terms in enumerate(objective.rows):
        for term in terms:
            if term.kind == "activation":
                continue
            penalties[row, PENALTY_KINDS.index(term.kind)] += term.weight
            if term.kind == "diversity":
                groups[row] = term.group
                diversity_layers.add(term.layer)
    if not penalties.any():
        return None, None, None
    if len(diversity_layers) > 1:
        raise CnnLensError(
            f"diversity reads one layer per objective, not {sorted(diversity_layers)}; "
            "give every diversity term the same layer"
        )
    layer = next(iter(diversity_layers), None)
    return penalties, groups, None if layer is None else list(layer_names).index(layer)


def _poolings(row: tuple[Term, ...], layer: str) -> list[tuple[Node | None, list[Term]]]:
    """The row's terms of ``layer`` grouped by where they pool (None: the mean), in order."""
    groups: dict[Node | None, list[Term]] = {}
    for term in row:
        if term.layer == layer and term.kind == "activation":
            groups.setdefault(term.node, []).append(term)
    return list(groups.items())


def _entry(poolings: list, slot: int) -> tuple[Node | None, list[Term]]:
    return poolings[slot] if slot < len(poolings) else (None, [])


def _weights(entries: list[tuple[Node | None, list[Term]]], layer: str, count: int) -> np.ndarray:
    """(batch, channels) float32: a channel term adds its weight to its channel, a whole-layer
    term ``weight / channels`` to every channel."""
    weights = np.zeros((len(entries), count), np.float32)
    for row, (_, terms) in enumerate(entries):
        for term in terms:
            if term.channel is None:
                weights[row] += term.weight / count
            elif 0 <= term.channel < count:
                weights[row, term.channel] += term.weight
            else:
                raise CnnLensError(
                    f"map index {term.channel} is out of range for {layer}, which has maps "
                    f"0..{count - 1}"
                )
    return weights


def _masks(
    nodes: list[Node | None], layer: str, shape: tuple[int | None, int | None]
) -> np.ndarray | None:
    """(batch, height, width) float32: 1 at a row's node, uniform for a row's mean; None
    when no row has a node."""
    if all(node is None for node in nodes):
        return None
    height, width = shape
    if height is None or width is None:
        raise CnnLensError(
            f"the maps of {layer} have no fixed size with this engine's input shape; "
            "node objectives need an engine with a fixed input size"
        )
    masks = np.zeros((len(nodes), height, width), np.float32)
    for row, node in enumerate(nodes):
        if node is None:
            masks[row] = 1.0 / (height * width)
        elif 0 <= node[0] < height and 0 <= node[1] < width:
            masks[row, node[0], node[1]] = 1.0
        else:
            raise CnnLensError(
                f"node {node} out of range for {layer}, whose maps are {height}x{width}: "
                "use 0 <= i < height, 0 <= j < width"
            )
    return masks


def evaluate(outputs, layers, weights, masks, revival: str | None):
    """Graph side: (objective, revival objective) per image from the pre-activation
    ``outputs`` of the engine's layers and the tables' tensors; the revival objective (the
    weighted pooling, ``revival`` "mean" or "max", of the pre-activation) only when
    ``revival`` is given, else 0."""
    objective = 0.0
    pre_objective = 0.0
    for position, weight, mask in zip(layers, weights, masks):
        pre = tf.cast(outputs[position], tf.float32)
        objective += tf.reduce_sum(weight * pool(tf.nn.relu(pre), mask), axis=1)
        if revival is not None:
            pooled = pool(pre, mask, revival == "max")
            pre_objective += tf.reduce_sum(weight * pooled, axis=1)
    return objective, pre_objective


def ascended(objective, pre_objective, revive):
    """Graph side: what each image climbs: its revival objective where it revives and its
    objective is at most 0, its objective elsewhere."""
    return tf.where(revive & (objective <= 0.0), pre_objective, objective)


def pool(values, mask, maximum: bool = False):
    """Graph side: (batch, channels) mean (or maximum) over positions, or the mask-weighted
    sum."""
    if mask is None:
        reduce = tf.reduce_max if maximum else tf.reduce_mean
        return reduce(values, axis=[1, 2])
    return tf.einsum("bhw,bhwc->bc", mask, values)


def channel_tensor(tables: Tables):
    """Each row's one channel as a tensor, or None for tables that read whole layers."""
    return None if tables.channel is None else tf.convert_to_tensor(tables.channel, tf.int32)


def table_tensors(tables: Tables):
    """Weights, masks and revival flags as tensors (revival None when no row revives)."""
    weights = tuple(tf.convert_to_tensor(weight, tf.float32) for weight in tables.weights)
    masks = tuple(
        None if mask is None else tf.convert_to_tensor(mask, tf.float32) for mask in tables.masks
    )
    revive = tf.convert_to_tensor(tables.revive) if tables.revive.any() else None
    return weights, masks, revive


def penalty_tensors(tables: Tables):
    """Penalty weights and diversity groups as tensors (both None without penalties)."""
    if tables.penalties is None:
        return None, None
    return tf.convert_to_tensor(tables.penalties), tf.convert_to_tensor(tables.groups)
