"""Objectives: what each image of a batch climbs, as values that compose.

An :class:`Objective` has one row per batch image; a row is a sum of weighted :class:`Term` s,
and a term is the ReLU activation of one channel (map) of a conv layer, or of all its channels
(their mean), averaged over the map's positions or taken at one node (i, j). A unit of a dense
layer is a channel with one position (the engine gives dense pre-activations as 1x1 maps); for
the last layer that is a class's logit, whose ReLU a reviving row climbs from below 0 too::

    from cnnlens.optvis import objectives

    one_map = objectives.channel("Conv2D_3", 5)                  # batch 1
    every_map = objectives.channels("Conv2D_3", range(128))      # one map per row
    node = objectives.neuron("Conv2D_3", 5, (1, 2))
    class_four = objectives.unit("dense_1", 4).revived()        # the logit of class 4
    mix = 0.5 * objectives.layer_mean("Conv2D_2") + objectives.layer_mean("Conv2D_3")
    both = objectives.stack([mix, every_map.revived()])          # batch 129
    restarts = every_map.repeat(4)                               # each row 4 times

Penalties compose the same way (lucid's regularisers)::

    smooth = every_map - 0.1 * objectives.total_variation() - 0.01 * objectives.l2()
    apart = every_map.repeat(4) - 0.5 * objectives.diversity("Conv2D_3", np.repeat(range(128), 4))

A penalty term (``total_variation``, ``l2`` of the image, ``diversity`` of a layer's Gram
matrices within a group of rows; :mod:`.regularisers`) is climbed with its weight like the
activation terms, but the objective an engine *reports* (history, evaluation) is the
activation terms' alone.

``revived()`` marks rows whose objective, when exactly 0 (so its gradient is 0 too and the
image would never move), climbs the same weighted pooling of the *pre*-activation instead
(its mean, or its maximum over positions, as the engine says) until the objective turns
positive.

Objectives name layers, not engines. :func:`compile_tables` turns one into the tables an
engine evaluates: per slot (one per engine layer, more only where a row pools one layer in
two ways) a weight table (batch, channels) and a node mask (batch, height, width) or None;
:func:`evaluate` is their graph-side evaluation, which the engine calls inside its compiled
step. A new kind of objective is a new term here, its compilation and its evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import tensorflow as tf

from cnnlens.errors import CnnLensError

REVIVAL_POOLINGS = ("mean", "max")
#: Terms that are climbed but not reported, in the column order of :attr:`Tables.penalties`.
PENALTY_KINDS = ("total_variation", "l2", "diversity")
Node = tuple[int, int]


@dataclass(frozen=True)
class Term:
    """``weight`` times the ReLU activation of ``channel`` of ``layer`` (None: the mean over
    all its channels), averaged over positions or taken at ``node`` (i, j); or, for a
    ``kind`` of :data:`PENALTY_KINDS`, ``weight`` times that penalty (``layer`` only for
    diversity, whose rows of the same ``group`` are pushed apart)."""

    layer: str | None
    channel: int | None
    node: Node | None
    weight: float
    kind: str = "activation"
    group: int = -1

    def scaled(self, factor: float) -> Term:
        return replace(self, weight=self.weight * factor)


@dataclass(frozen=True)
class Objective:
    """Per batch image, a sum of terms and whether it revives (see the module docstring)."""

    rows: tuple[tuple[Term, ...], ...]
    revive: tuple[bool, ...]

    @property
    def batch(self) -> int:
        return len(self.rows)

    @property
    def layers(self) -> tuple[str, ...]:
        """The layers the terms read, in order of first appearance."""
        return tuple(
            dict.fromkeys(term.layer for row in self.rows for term in row if term.layer)
        )

    def __add__(self, other: Objective | float) -> Objective:
        """Row-wise sum; an objective of batch 1 is added to every row of the other."""
        if not isinstance(other, Objective):
            if other == 0:  # sum() starts from 0
                return self
            return NotImplemented
        batch = _common_batch(self.batch, other.batch)
        left, right = self._broadcast(batch), other._broadcast(batch)
        return Objective(
            rows=tuple(a + b for a, b in zip(left.rows, right.rows)),
            revive=tuple(a or b for a, b in zip(left.revive, right.revive)),
        )

    __radd__ = __add__

    def __sub__(self, other: Objective) -> Objective:
        return self + (-1.0) * other

    def __neg__(self) -> Objective:
        return (-1.0) * self

    def __mul__(self, factor: float) -> Objective:
        if isinstance(factor, Objective):
            return NotImplemented
        rows = tuple(tuple(term.scaled(factor) for term in row) for row in self.rows)
        return Objective(rows, self.revive)

    __rmul__ = __mul__

    def revived(self) -> Objective:
        """Every row revives when stuck at exactly 0."""
        return Objective(self.rows, (True,) * self.batch)

    def take(self, index: int | slice | Sequence[int] | np.ndarray) -> Objective:
        """The rows ``index`` selects (a slice, indices or a boolean mask), in that order."""
        chosen = np.arange(self.batch)[index].reshape(-1)
        return Objective(
            tuple(self.rows[i] for i in chosen), tuple(self.revive[i] for i in chosen)
        )

    def repeat(self, count: int) -> Objective:
        """Each row ``count`` times in a row (restarts of the same objective)."""
        return self.take(np.repeat(np.arange(self.batch), count))

    def tile(self, count: int) -> Objective:
        """The whole batch ``count`` times."""
        return self.take(np.tile(np.arange(self.batch), count))

    def _broadcast(self, batch: int) -> Objective:
        return self if self.batch == batch else self.tile(batch)


def _common_batch(first: int, second: int) -> int:
    if first == second or second == 1:
        return first
    if first == 1:
        return second
    raise CnnLensError(
        f"cannot add objectives of {first} and {second} rows; give equal batches or one of 1"
    )


def stack(parts: Iterable[Objective]) -> Objective:
    """The rows of all ``parts``, one after the other."""
    parts = list(parts)
    return Objective(
        rows=tuple(row for part in parts for row in part.rows),
        revive=tuple(flag for part in parts for flag in part.revive),
    )


def channels(layer: str, indices: Iterable[int]) -> Objective:
    """One row per index: the mean activation of map ``indices[b]`` of ``layer``."""
    return _single_terms(layer, indices, None)


def channel(layer: str, index: int) -> Objective:
    """The mean activation of map ``index`` of ``layer`` (batch 1)."""
    return channels(layer, [index])


def units(layer: str, indices: Iterable[int]) -> Objective:
    """One row per index: the activation of unit ``indices[b]`` of dense ``layer`` (its
    pre-activation's ReLU; a 1x1 map to the engine)."""
    return _single_terms(layer, indices, None)


def unit(layer: str, index: int) -> Objective:
    """The activation of unit ``index`` of dense ``layer`` (batch 1)."""
    return units(layer, [index])


def neurons(layer: str, indices: Iterable[int], nodes: Iterable[Node]) -> Objective:
    """One row per index: the activation of map ``indices[b]`` at node ``nodes[b]`` (i, j)."""
    return _single_terms(layer, indices, [tuple(int(side) for side in node) for node in nodes])


def neuron(layer: str, index: int, node: Node) -> Objective:
    """The activation of map ``index`` of ``layer`` at ``node`` (i, j) (batch 1)."""
    return neurons(layer, [index], [node])


def layer_mean(layer: str) -> Objective:
    """The mean activation over all maps of ``layer`` (batch 1)."""
    return Objective(((Term(layer, None, None, 1.0),),), (False,))


def total_variation() -> Objective:
    """The image's total variation (mean absolute difference of neighbouring pixels, in
    standardised units; batch 1): subtract it to favour smooth images."""
    return _penalty(Term(None, None, None, 1.0, "total_variation"))


def l2() -> Objective:
    """The image's mean squared distance from the middle of the input range (in standardised
    units; batch 1): subtract it to favour faint images."""
    return _penalty(Term(None, None, None, 1.0, "l2"))


def diversity(layer: str, groups: Iterable[int]) -> Objective:
    """One row per group id: the mean cosine similarity of the row's Gram matrix of ``layer``'s
    activations with those of the other rows of its group in a batch; subtract it to push a
    group (e.g. a target's restarts) apart."""
    rows = tuple((Term(layer, None, None, 1.0, "diversity", int(group)),) for group in groups)
    return Objective(rows, (False,) * len(rows))


def _penalty(term: Term) -> Objective:
    return Objective(((term,),), (False,))


def _single_terms(layer: str, indices: Iterable[int], nodes: list[Node] | None) -> Objective:
    indices = [int(index) for index in np.asarray(list(indices), np.int64).reshape(-1)]
    if nodes is not None and len(nodes) != len(indices):
        raise CnnLensError(f"{len(nodes)} nodes for {len(indices)} maps of {layer}; give one each")
    places = nodes if nodes is not None else [None] * len(indices)
    rows = tuple((Term(layer, index, node, 1.0),) for index, node in zip(indices, places))
    return Objective(rows, (False,) * len(rows))


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
