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

Objectives name layers, not engines: :mod:`cnnlens.optvis.objective_tables` compiles one
into the tables an engine evaluates. A new kind of objective is a new term here, and its
compilation and evaluation there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

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
