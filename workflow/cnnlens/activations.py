"""Activations of the trained CNN: reading them out, choosing example images, tiling a layer's
maps into a grid, and comparing two classes map by map.

Sections, each usable on its own:

* **read-out** (TensorFlow): the outputs of named layers for a batch of images;
* **example selection** (numpy): per class the most confidently right test images, per class
  pair the true members the model finds most ambiguous, plus indices listed in config;
* **example sets**: the selected images with their probabilities and every layer's
  activations, stored in one ``.npz`` so that drawing needs no TensorFlow;
* **grids**: one tile per map (conv/pool) or per node (dense), never dropping one;
* **class statistics**: per class and unit the mean and variance of the activation, and per
  image each map's mean activation, accumulated over the test set in batches;
* **class comparison**: the standardised mean difference (Cohen's d) and the area under the
  ROC curve of every map's mean activation between two classes, the ranking they give, and
  how often each map is active at all (a map never active is a dead ReLU).

Only the read-out imports TensorFlow (inside its functions), so drawing jobs start fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from cnnlens.errors import CnnLensError
from cnnlens.files import atomic_path
from cnnlens.model import LAYER_NAMES, LAYER_TABLE, NUM_CLASSES
from cnnlens.plotting.figures import grid_shape, standardise_tiles, tile_mosaic

if TYPE_CHECKING:
    import keras

BATCH_SIZE = 500
OUTPUT_LAYER = "dense_1"
VALUE_MODES = ("raw", "standardised")
STANDARDISED_LIMITS = (0.0, 255.0)
LAYER_SHAPES = {name: shape for name, shape, _ in LAYER_TABLE}

# --------------------------------------------------------------------------------------------
# Read-out (TensorFlow)
# --------------------------------------------------------------------------------------------


def check_layers(layers: Sequence[str]) -> list[str]:
    """The layer names, or an error naming the unknown one and the layers there are."""
    for name in layers:
        if name not in LAYER_NAMES:
            raise CnnLensError(
                f"unknown layer {name!r} in activations.layers; "
                f"the model's layers are {', '.join(LAYER_NAMES)}"
            )
    return list(layers)


def readout_model(model: keras.Model, layers: Sequence[str]) -> keras.Model:
    """A model from the CNN's input to the outputs of ``layers`` (in that order)."""
    import keras

    from cnnlens.model import require_layer

    outputs = [require_layer(model, name).output for name in check_layers(layers)]
    return keras.Model(model.inputs[0], outputs, name="readout")


def batched_readout(
    model: keras.Model, images: np.ndarray, layers: Sequence[str], batch_size: int = BATCH_SIZE
) -> Iterator[tuple[slice, dict[str, np.ndarray]]]:
    """Yield (which images, {layer: activations}) batch by batch, so memory stays bounded."""
    readout = readout_model(model, layers)
    for start in range(0, len(images), batch_size):
        batch = slice(start, min(start + batch_size, len(images)))
        outputs = readout(images[batch], training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        yield batch, {name: np.asarray(output) for name, output in zip(layers, outputs)}


def read_out(
    model: keras.Model, images: np.ndarray, layers: Sequence[str], batch_size: int = BATCH_SIZE
) -> dict[str, np.ndarray]:
    """The activations of ``layers`` for all ``images``, as {layer: (N, *layer shape)}."""
    parts: dict[str, list[np.ndarray]] = {
        name: [np.zeros((0, *LAYER_SHAPES[name]), dtype=np.float32)] for name in layers
    }
    for _, outputs in batched_readout(model, images, layers, batch_size):
        for name, values in outputs.items():
            parts[name].append(values)
    return {name: np.concatenate(values) for name, values in parts.items()}


def predict_probabilities(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """The class probabilities (N, 10) the model gives each image."""
    return read_out(model, images, [OUTPUT_LAYER])[OUTPUT_LAYER]


# --------------------------------------------------------------------------------------------
# Example selection (numpy)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExampleSettings:
    """Which test images to draw (config section ``activations.examples`` and ``pairs``)."""

    classes: tuple[int, ...]
    confident_per_class: int
    ambiguous_per_class: int
    pairs: tuple[tuple[int, int], ...]
    test_indices: tuple[int, ...]

    @classmethod
    def from_config(
        cls, examples: Mapping[str, Any], pairs: Sequence[Sequence[int]]
    ) -> ExampleSettings:
        return cls(
            classes=tuple(examples["classes"]),
            confident_per_class=examples["confident_per_class"],
            ambiguous_per_class=examples["ambiguous_per_class"],
            pairs=check_pairs(pairs),
            test_indices=tuple(examples["test_indices"]),
        )


def check_pairs(pairs: Sequence[Sequence[int]]) -> tuple[tuple[int, int], ...]:
    """The class pairs as tuples, or an error for a pair of one class with itself."""
    checked = []
    for first, second in pairs:
        if first == second:
            raise CnnLensError(
                f"class pair [{first}, {second}] compares a class with itself; "
                "give two different classes in activations.pairs"
            )
        checked.append((int(first), int(second)))
    return tuple(checked)


@dataclass(frozen=True)
class Example:
    """One selected test image: its index, label, the model's call, and why it was chosen."""

    index: int
    label: int
    probabilities: np.ndarray
    reasons: tuple[str, ...]

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(self.probabilities[self.predicted])

    def describe(self) -> str:
        """One line for figure titles: ``test image 1816: label 4, predicted 4 (p = 0.998)``."""
        return (
            f"test image {self.index}: label {self.label}, predicted {self.predicted} "
            f"(p = {self.confidence:.3f})"
        )


def lowest(indices: np.ndarray, keys: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` indices with the lowest keys (ties: lower index first)."""
    return indices[np.lexsort((indices, keys))[:count]]


def most_confident(
    probabilities: np.ndarray, labels: np.ndarray, digit: int, count: int
) -> np.ndarray:
    """Indices of the ``count`` correctly classified images of ``digit`` that the model is
    surest of: the least probability left for the other classes (ties: lower index first).

    Summing the others' probabilities keeps the order where p(digit) rounds to 1.0 in float32.
    """
    right = np.flatnonzero((labels == digit) & (probabilities.argmax(axis=1) == digit))
    others = np.delete(probabilities[right], digit, axis=1).sum(axis=1)
    return lowest(right, others, count)


def ambiguity(probabilities: np.ndarray, first: int, second: int) -> np.ndarray:
    """How torn the model is between two classes: min(p_first, p_second).

    0.5 for a 50/50 call between them; near 0 when the model is sure of either class, or of
    neither.
    """
    return np.minimum(probabilities[:, first], probabilities[:, second])


def most_ambiguous(
    probabilities: np.ndarray, labels: np.ndarray, digit: int, other: int, count: int
) -> np.ndarray:
    """Indices of the ``count`` true images of ``digit`` that the model finds most torn
    between ``digit`` and ``other`` (ties: lower index first)."""
    members = np.flatnonzero(labels == digit)
    return lowest(members, -ambiguity(probabilities[members], digit, other), count)


def select_examples(
    probabilities: np.ndarray, labels: np.ndarray, settings: ExampleSettings
) -> list[Example]:
    """The test images to draw, in the order: clear ones per class, ambiguous ones per pair,
    listed ones; an image chosen for several reasons appears once with all of them."""
    labels = np.asarray(labels).astype(np.int64)
    reasons: dict[int, list[str]] = {}
    for digit in settings.classes:
        chosen = most_confident(probabilities, labels, digit, settings.confident_per_class)
        for rank, index in enumerate(chosen, start=1):
            reasons.setdefault(int(index), []).append(f"clear {digit} (rank {rank})")
    for first, second in settings.pairs:
        for digit, other in ((first, second), (second, first)):
            chosen = most_ambiguous(
                probabilities, labels, digit, other, settings.ambiguous_per_class
            )
            for rank, index in enumerate(chosen, start=1):
                reasons.setdefault(int(index), []).append(
                    f"ambiguous {digit} vs {other} (rank {rank})"
                )
    for index in settings.test_indices:
        if not 0 <= index < len(labels):
            raise CnnLensError(
                f"test index {index} is out of range: the test set has {len(labels)} images "
                f"(0..{len(labels) - 1}); fix activations.examples.test_indices"
            )
        reasons.setdefault(int(index), []).append("listed in config")
    return [
        Example(index, int(labels[index]), probabilities[index], tuple(why))
        for index, why in reasons.items()
    ]


def significant(value: float, digits: int = 6) -> float:
    """``value`` rounded to ``digits`` significant digits (keeps tiny probabilities visible)."""
    return float(f"{float(value):.{digits}g}")


def example_rows(examples: Sequence[Example]) -> list[dict[str, Any]]:
    """The rows of ``examples.csv``: index, label, predicted, confidence, p0..p9, why."""
    return [
        {
            "index": example.index,
            "label": example.label,
            "predicted": example.predicted,
            "confidence": significant(example.confidence),
            **{f"p{digit}": significant(p) for digit, p in enumerate(example.probabilities)},
            "why": "; ".join(example.reasons),
        }
        for example in examples
    ]


def examples_index(rows: Sequence[Mapping[str, Any]], layers: Sequence[str]) -> str:
    """A Markdown page listing the selected images (rows of ``examples.csv``) with links to
    their overview page and layer grids (paths relative to ``results/activations/``)."""
    lines = [
        "# Activation grids of the selected test images",
        "",
        "Chosen by rule select_examples (see examples.csv): *clear* = among the test images of",
        "their class the model is surest of; *ambiguous a vs b* = true a's the model finds most",
        "torn between a and b.",
        "",
        "| test image | label | predicted | p | chosen as | pages |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        folder = f"test_{row['index']}"
        links = [f"[overview]({folder}/overview.png)"]
        links += [f"[{layer}]({folder}/{layer}.png)" for layer in layers]
        lines.append(
            f"| {row['index']} | {row['label']} | {row['predicted']} | "
            f"{float(row['confidence']):.3f} | {row['why']} | {' '.join(links)} |"
        )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Example sets: selected images with every layer's activations, in one .npz
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExampleSet:
    """The selected images, their probabilities and activations ({layer: (N, *shape)})."""

    examples: tuple[Example, ...]
    images: np.ndarray
    activations: dict[str, np.ndarray]

    @property
    def layers(self) -> list[str]:
        return list(self.activations)

    def position(self, index: int) -> int:
        """Where test image ``index`` is in this set, or an error listing what is there."""
        for position, example in enumerate(self.examples):
            if example.index == index:
                return position
        chosen = ", ".join(str(example.index) for example in self.examples)
        raise CnnLensError(
            f"test image {index} is not among the selected examples ({chosen}); "
            "add it to activations.examples.test_indices"
        )

    def example(self, index: int) -> Example:
        """The selected test image ``index``."""
        return self.examples[self.position(index)]

    def image(self, index: int) -> np.ndarray:
        """The (standardised) input image of test image ``index``, (28, 28)."""
        return self.images[self.position(index)]

    def activation(self, layer: str, index: int) -> np.ndarray:
        """The activation of ``layer`` for test image ``index`` (one image, no batch axis)."""
        if layer not in self.activations:
            raise CnnLensError(
                f"layer {layer!r} was not read out; add it to activations.layers "
                f"(read out: {', '.join(self.layers)})"
            )
        return self.activations[layer][self.position(index)]


def read_out_examples(
    model: keras.Model, images: np.ndarray, examples: Sequence[Example], layers: Sequence[str]
) -> ExampleSet:
    """Read out ``layers`` for the selected test images."""
    indices = [example.index for example in examples]
    chosen = images[indices]
    return ExampleSet(tuple(examples), chosen[..., 0], read_out(model, chosen, layers))


def save_arrays(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> None:
    """Save named arrays as one compressed ``.npz`` atomically."""
    with atomic_path(path) as temporary:
        np.savez_compressed(temporary, **arrays)


def load_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load every array of an ``.npz``, with a clear error when it is missing or damaged."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except (OSError, ValueError, KeyError) as error:
        raise CnnLensError(
            f"cannot read {path} ({error}); delete it and rerun the workflow to recreate it"
        ) from None


def save_example_set(path: str | os.PathLike, example_set: ExampleSet) -> None:
    """Store an example set as ``.npz``: metadata arrays plus one ``layer:<name>`` per layer."""
    examples = example_set.examples
    save_arrays(
        path,
        {
            "indices": np.array([example.index for example in examples], dtype=np.int64),
            "labels": np.array([example.label for example in examples], dtype=np.int64),
            "probabilities": np.array([example.probabilities for example in examples]),
            "reasons": np.array(["; ".join(example.reasons) for example in examples]),
            "images": example_set.images,
            "layers": np.array(example_set.layers),
            **{f"layer:{name}": values for name, values in example_set.activations.items()},
        },
    )


def load_example_set(path: str | os.PathLike) -> ExampleSet:
    """Read back what :func:`save_example_set` stored."""
    stored = load_arrays(path)
    examples = tuple(
        Example(int(index), int(label), probabilities, tuple(str(reasons).split("; ")))
        for index, label, probabilities, reasons in zip(
            stored["indices"], stored["labels"], stored["probabilities"], stored["reasons"]
        )
    )
    activations = {str(name): stored[f"layer:{name}"] for name in stored["layers"]}
    return ExampleSet(examples, stored["images"], activations)


# --------------------------------------------------------------------------------------------
# Grids: one tile per map or node
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridSettings:
    """How a layer's activations are tiled and coloured (config ``activations.grid``)."""

    values: str = "standardised"
    colormap: str = "jet"
    columns: int = 8
    dense_columns: int = 10

    @classmethod
    def from_config(cls, grid: Mapping[str, Any]) -> GridSettings:
        """From config ``activations.grid`` (or the part of it a rule uses)."""
        settings = cls(**grid)
        if settings.values not in VALUE_MODES:
            raise CnnLensError(
                f"activations.grid.values is {settings.values!r}; use one of {VALUE_MODES}"
            )
        return settings


@dataclass(frozen=True)
class Grid:
    """A layer's activations as tiles in a mosaic, ready to draw.

    ``tiles`` (count, height, width) are the values as drawn; ``mosaic`` puts them ``columns``
    per row with no gap (the plot draws thin lines between tiles, whatever their size) and NaN
    in the empty cells after the last tile. ``value_range`` is the raw activations' range.
    """

    layer: str
    shape: tuple[int, ...]
    tiles: np.ndarray
    mosaic: np.ndarray
    rows: int
    columns: int
    values: str
    limits: tuple[float, float]
    value_range: tuple[float, float]

    @property
    def count(self) -> int:
        return self.tiles.shape[0]

    @property
    def tile_shape(self) -> tuple[int, int]:
        return self.tiles.shape[1], self.tiles.shape[2]

    @property
    def is_spatial(self) -> bool:
        """True for conv/pool maps, False for the nodes of a dense (or flatten) layer."""
        return len(self.shape) == 3

    @property
    def unit_name(self) -> str:
        return "map" if self.is_spatial else "node"

    @property
    def constant_units(self) -> np.ndarray:
        """The maps whose tile is one flat value (e.g. a ReLU map silent for this image);
        standardised, they show the middle colour. Empty for dense layers (1x1 tiles)."""
        if not self.is_spatial:
            return np.zeros(0, dtype=np.int64)
        flat = self.tiles.reshape(self.count, -1)
        return np.flatnonzero(flat.max(axis=1) == flat.min(axis=1))


def layer_tiles(activation: np.ndarray) -> np.ndarray:
    """One image's layer activation as tiles: (H, W, C) -> (C, H, W); (N,) -> (N, 1, 1)."""
    values = np.asarray(activation)
    if values.ndim == 3:
        return np.moveaxis(values, -1, 0)
    if values.ndim == 1:
        return values.reshape(-1, 1, 1)
    raise CnnLensError(
        f"cannot tile an activation of shape {values.shape}; expected (H, W, maps) or (nodes,)"
    )


def scale_tiles(tiles: np.ndarray, values: str) -> np.ndarray:
    """The tiles as drawn: raw, or standardised per tile (x - mean) / std * 64 + 128.

    A 1x1 tile (a dense node) cannot be standardised on its own, so a dense layer's nodes are
    standardised together.
    """
    if values == "raw":
        return np.asarray(tiles, dtype=np.float64)
    if tiles.shape[1:] == (1, 1):
        return standardise_tiles(tiles.reshape(1, -1)).reshape(tiles.shape)
    return standardise_tiles(tiles)


def layer_grid(
    layer: str,
    activation: np.ndarray,
    settings: GridSettings,
    values: str | None = None,
) -> Grid:
    """The grid of one image's ``activation`` of ``layer``; ``values`` overrides the settings'
    raw/standardised choice."""
    mode = values or settings.values
    tiles = layer_tiles(activation)
    spatial = np.asarray(activation).ndim == 3
    columns = min(settings.columns if spatial else settings.dense_columns, len(tiles))
    drawn = scale_tiles(tiles, mode)
    mosaic = tile_mosaic(drawn, columns=columns, gap=0)
    value_range = (float(np.min(tiles)), float(np.max(tiles)))
    limits = STANDARDISED_LIMITS if mode == "standardised" else value_range
    return Grid(
        layer=layer,
        shape=tuple(np.shape(activation)),
        tiles=drawn,
        mosaic=mosaic,
        rows=grid_shape(len(tiles), columns)[0],
        columns=columns,
        values=mode,
        limits=limits,
        value_range=value_range,
    )


def example_grids(example_set: ExampleSet, index: int, settings: GridSettings) -> list[Grid]:
    """The grids of every layer read out for test image ``index``, in layer order."""
    return [
        layer_grid(layer, example_set.activation(layer, index), settings)
        for layer in example_set.layers
    ]


# --------------------------------------------------------------------------------------------
# Class statistics over the test set
# --------------------------------------------------------------------------------------------


def map_means(activations: np.ndarray) -> np.ndarray:
    """Each map's mean activation per image: (N, H, W, C) -> (N, C); dense (N, U) unchanged."""
    values = np.asarray(activations)
    return values.mean(axis=(1, 2)) if values.ndim == 4 else values


@dataclass
class LayerStatistics:
    """Per class and unit: image count, mean and (population) variance of the activation;
    per image: each map's mean activation."""

    counts: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    map_means: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return self.mean.shape[1:]


@dataclass
class ClassStatistics:
    """:class:`LayerStatistics` for each layer, and the label of every image."""

    labels: np.ndarray
    layers: dict[str, LayerStatistics] = field(default_factory=dict)

    def layer(self, name: str) -> LayerStatistics:
        if name not in self.layers:
            raise CnnLensError(
                f"no class statistics for layer {name!r}; add it to activations.layers "
                f"(computed: {', '.join(self.layers)})"
            )
        return self.layers[name]


class ClassStatisticsAccumulator:
    """Sums of activations and squares per class and unit, fed batch by batch."""

    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        self.num_classes = num_classes
        self.sums: dict[str, np.ndarray] = {}
        self.squares: dict[str, np.ndarray] = {}
        self.map_means: dict[str, list[np.ndarray]] = {}
        self.labels: list[np.ndarray] = []

    def add(self, activations: Mapping[str, np.ndarray], labels: np.ndarray) -> None:
        """Add one batch: {layer: (B, *shape)} and the batch's integer labels (B,)."""
        labels = np.asarray(labels).astype(np.int64)
        membership = np.eye(self.num_classes)[labels].T  # (classes, B)
        self.labels.append(labels)
        for name, values in activations.items():
            flat = np.asarray(values, dtype=np.float64).reshape(len(labels), -1)
            if name not in self.sums:
                self.sums[name] = np.zeros((self.num_classes, *values.shape[1:]))
                self.squares[name] = np.zeros_like(self.sums[name])
                self.map_means[name] = []
            self.sums[name] += (membership @ flat).reshape(self.sums[name].shape)
            self.squares[name] += (membership @ flat**2).reshape(self.sums[name].shape)
            self.map_means[name].append(map_means(values).astype(np.float32))

    def result(self) -> ClassStatistics:
        labels = np.concatenate(self.labels) if self.labels else np.zeros(0, dtype=np.int64)
        counts = np.bincount(labels, minlength=self.num_classes)
        divisor = np.maximum(counts, 1).astype(np.float64)
        statistics = ClassStatistics(labels)
        for name, sums in self.sums.items():
            per_class = divisor.reshape(-1, *([1] * (sums.ndim - 1)))
            mean = sums / per_class
            variance = np.maximum(self.squares[name] / per_class - mean**2, 0.0)
            statistics.layers[name] = LayerStatistics(
                counts, mean, variance, np.concatenate(self.map_means[name])
            )
        return statistics


def class_statistics(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    layers: Sequence[str],
    batch_size: int = BATCH_SIZE,
) -> ClassStatistics:
    """Class statistics of ``layers`` over all ``images`` (read out in batches)."""
    accumulator = ClassStatisticsAccumulator()
    for batch, outputs in batched_readout(model, images, layers, batch_size):
        accumulator.add(outputs, labels[batch])
    return accumulator.result()


def save_class_statistics(path: str | os.PathLike, statistics: ClassStatistics) -> None:
    """Store class statistics as ``.npz`` (``<layer>:<field>`` per layer)."""
    arrays: dict[str, np.ndarray] = {
        "labels": statistics.labels,
        "layers": np.array(list(statistics.layers)),
    }
    for name, layer in statistics.layers.items():
        arrays.update(
            {
                f"{name}:counts": layer.counts,
                f"{name}:mean": layer.mean.astype(np.float32),
                f"{name}:variance": layer.variance.astype(np.float32),
                f"{name}:map_means": layer.map_means,
            }
        )
    save_arrays(path, arrays)


def load_class_statistics(path: str | os.PathLike) -> ClassStatistics:
    """Read back what :func:`save_class_statistics` stored."""
    stored = load_arrays(path)
    statistics = ClassStatistics(stored["labels"])
    for name in map(str, stored["layers"]):
        statistics.layers[name] = LayerStatistics(
            *(stored[f"{name}:{part}"] for part in ("counts", "mean", "variance", "map_means"))
        )
    return statistics


# --------------------------------------------------------------------------------------------
# Comparing two classes
# --------------------------------------------------------------------------------------------


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
    sizes per unit (``point_effect``, activation-shaped) and per map or node (``map_*``)."""

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


def class_members(statistics: ClassStatistics, digit: int) -> np.ndarray:
    """Which images are of class ``digit``: a boolean mask, or an error if there are < 2."""
    members = statistics.labels == digit
    if members.sum() < 2:
        raise CnnLensError(
            f"the test set has {members.sum()} image(s) of class {digit}, too few to compare; "
            "use more test images (data.subset.test) or another pair in activations.pairs"
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
    )


def ranking_rows(comparison: Comparison) -> list[dict[str, Any]]:
    """The ranking CSV: every map or node, best separating first, with its statistics."""
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
        rows.append(row)
    return rows


def separation_rows(comparisons: Sequence[Comparison], large_effect: float) -> list[dict[str, Any]]:
    """Per layer: how well its best map or node, and its maps or nodes overall, separate the
    two classes (|Cohen's d| of the per-image map means, and the AUC folded to 0.5..1)."""
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
                "best_auc": round(float(folded_auc.max()), 4),
                "median_abs_effect_size": round(float(np.median(magnitude)), 4),
                "large_effect_units": int((magnitude >= large_effect).sum()),
                "large_effect_fraction": round(float((magnitude >= large_effect).mean()), 4),
                "silent_units": int(comparison.silent_units().size),
            }
        )
    return rows


def compare_layers(statistics: ClassStatistics, first: int, second: int) -> list[Comparison]:
    """:func:`compare_classes` for every layer of ``statistics``, in their order."""
    return [compare_classes(statistics, layer, first, second) for layer in statistics.layers]
