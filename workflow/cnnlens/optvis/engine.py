"""The ascent engine: one compiled step for a whole batch, each image with its own objective.

:class:`AscentEngine` wraps the pre-activation copy of a CNN (:mod:`.preactivation`) for some
conv or dense layers. Its step, for the whole batch at once: the gradient of the objective
(:mod:`.objectives`) with respect to the parameterisation's state (:mod:`.param`, pixels by
default), and the state moved along it. What an image climbs is its objective plus the
objective's penalty terms (:mod:`.regularisers`), from its image warped by the step's
matrices (:mod:`.transforms`) when given; the objective it reports is its activation terms'
alone, of the image it climbed. The forward and backward pass may compute in bfloat16
(``compute_dtype``); states, objectives and updates are float32.

Usage::

    from cnnlens.optvis import objectives
    from cnnlens.optvis.engine import AscentEngine

    engine = AscentEngine(model, ["Conv2D_3"])                  # the model's input size
    objective = objectives.channels("Conv2D_3", range(128)).revived()
    engine.objective(images, objective)                         # (128,) float32
    dreamer = AscentEngine(model, ["Conv2D_2", "Conv2D_3"], input_shape=(None, None, 1))

The loop around the step is :func:`cnnlens.optvis.render.render`. An image's results do not
depend on the other images of its batch.

Speed (2 CPU cores, benchmarks/README.md): all maps of a layer and their restarts are one
batch; when every image climbs one channel of the engine's one layer, that layer computes only
each image's own channel (:mod:`.channel_layers`; up to 3x fewer CPU seconds for a shallow
layer); bfloat16 compute is about 1.5x faster on CPUs with AVX512-BF16; XLA (``jit_compile``)
is slower on CPUs and is meant for GPUs.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from cnnlens.errors import CnnLensError
from cnnlens.optvis import objective_tables, objectives, regularisers, transforms
from cnnlens.optvis.objective_tables import Tables
from cnnlens.optvis.objectives import Objective
from cnnlens.optvis.param import Param, Pixels
from cnnlens.optvis.preactivation import preactivation_model, selects_channels
from cnnlens.preprocessing import Preprocessing


class AscentEngine:
    """The pre-activation model of ``layer_names`` and its compiled ascent step.

    ``input_shape``: the images' (H, W, C), by default the model's own; ``(None, None, C)``
    accepts any size. ``revival``: what a stuck image that revives climbs, the weighted
    ``"mean"`` of its pre-activation over positions (or the node) or its ``"max"`` over
    positions, which wakes maps much sooner. ``param``: the parameterisation
    (:class:`cnnlens.optvis.param.Pixels` by default).
    """

    def __init__(
        self,
        model: keras.Model,
        layer_names: Sequence[str],
        input_shape: Sequence[int | None] | None = None,
        compute_dtype: str = "float32",
        revival: str = "mean",
        jit_compile: bool = False,
        param: Param | None = None,
    ) -> None:
        if revival not in objectives.REVIVAL_POOLINGS:
            raise CnnLensError(
                f"unknown revival pooling {revival!r}; choose one of "
                f"{', '.join(objectives.REVIVAL_POOLINGS)}"
            )
        self.layer_names = tuple(layer_names)
        self.input_shape = tuple(model.input_shape[1:] if input_shape is None else input_shape)
        self.compute_dtype = compute_dtype
        self.revival = revival
        self.param = Pixels() if param is None else param
        self.model = preactivation_model(model, self.layer_names, self.input_shape, compute_dtype)
        self.channels = tuple(int(output.shape[-1]) for output in self.model.outputs)
        self.output_shapes = tuple(tuple(output.shape[1:]) for output in self.model.outputs)
        # One channel per image of the one target layer, when every image climbs one channel
        # (OIPs, single-map dreams): the layer's other channels are never computed.
        self.channel_model = None
        if selects_channels(model, self.layer_names):
            self.channel_model = preactivation_model(
                model, self.layer_names, self.input_shape, compute_dtype, channel_per_image=True
            )
        # The graphs have no Python control flow on tensors: traced as written (autograph off),
        # which builds the same ops about a CPU second sooner per job.
        compiled = {"reduce_retracing": True, "autograph": False}
        self._step = tf.function(self._step_graph, jit_compile=jit_compile or None, **compiled)
        self._evaluate = tf.function(self._objective_graph, **compiled)
        self._revival = tf.function(self._revival_graph, **compiled)
        self._pooled = tf.function(self._pooled_graph, **compiled)

    def layer_position(self, layer: str) -> int:
        """Index of ``layer`` among the engine's layers."""
        if layer not in self.layer_names:
            raise CnnLensError(
                f"layer {layer!r} is not a target of this ascent; its layers are "
                f"{', '.join(self.layer_names)}"
            )
        return self.layer_names.index(layer)

    def spatial_shape(self, layer: str) -> tuple[int, int]:
        """(height, width) of ``layer``'s maps (needs a fixed input size)."""
        height, width = self.output_shapes[self.layer_position(layer)][:2]
        if height is None or width is None:
            raise CnnLensError(
                f"the maps of {layer} have no fixed size with this engine's input shape; "
                "node objectives need an engine with a fixed input size"
            )
        return int(height), int(width)

    def compile(self, objective: Objective | Tables) -> Tables:
        """The tables of ``objective`` for this engine's layers (tables unchanged)."""
        if isinstance(objective, Tables):
            return objective
        shapes = tuple(shape[:2] for shape in self.output_shapes)
        tables = objective_tables.compile_tables(objective, self.layer_names, self.channels, shapes)
        if self.channel_model is None:
            return tables
        return objective_tables.narrowed(tables) or tables

    def step(
        self,
        state: tf.Tensor | np.ndarray,
        objective: Objective | Tables,
        epsilon: float,
        matrices: np.ndarray | None = None,
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """One ascent step of the whole batch: (new state, objective of the given state, or of
        its images warped by ``matrices`` (batch, 8) when given)."""
        tables = self.compile(objective)
        weights, masks, revive = objective_tables.table_tensors(tables)
        penalties, groups = objective_tables.penalty_tensors(tables)
        return self._step(
            tf.convert_to_tensor(state, tf.float32),
            objective_tables.channel_tensor(tables),
            tables.layers,
            weights,
            masks,
            revive,
            tf.constant(epsilon, tf.float32),
            penalties,
            groups,
            tables.diversity_layer,
            None if matrices is None else tf.convert_to_tensor(matrices, tf.float32),
        )

    def evaluate(self, state: tf.Tensor, objective: Objective | Tables) -> tf.Tensor:
        """The objective of each image of one batch's state (no step), as a tensor."""
        tables = self.compile(objective)
        weights, masks, _ = objective_tables.table_tensors(tables)
        channel = objective_tables.channel_tensor(tables)
        return self._evaluate(state, channel, tables.layers, weights, masks)

    def objective(
        self, images: np.ndarray, objective: Objective | Tables, batch_size: int = 1024
    ) -> np.ndarray:
        """The objective of each image (no step), ``batch_size`` images at a time."""
        return self._in_batches(images, self.compile(objective), batch_size, self.evaluate)

    def revival_score(
        self, images: np.ndarray, objective: Objective | Tables, batch_size: int = 1024
    ) -> np.ndarray:
        """What a stuck image would climb: the weighted mean or max (``revival``) of the
        pre-activation; the higher, the closer the image is to making its maps fire."""
        return self._in_batches(images, self.compile(objective), batch_size, self._revival_score)

    def mean_activations(self, images: np.ndarray, batch_size: int = 1024) -> list[np.ndarray]:
        """Per layer, (N, channels): every map's mean ReLU activation over its positions."""
        parts = [
            [value.numpy() for value in self._pooled(self.param.start(images[start:stop]))]
            for start, stop in _batches(len(images), batch_size)
        ]
        return [np.concatenate(layer) for layer in zip(*parts)]

    def _revival_score(self, state: tf.Tensor, tables: Tables) -> tf.Tensor:
        weights, masks, _ = objective_tables.table_tensors(tables)
        channel = objective_tables.channel_tensor(tables)
        return self._revival(state, channel, tables.layers, weights, masks)

    def _in_batches(self, images, tables: Tables, batch_size: int, evaluate) -> np.ndarray:
        values = [
            evaluate(self.param.start(images[start:stop]), tables.take(slice(start, stop))).numpy()
            for start, stop in _batches(len(images), batch_size)
        ]
        return np.concatenate(values) if values else np.zeros(0, np.float32)

    def _outputs(self, state, channel=None) -> list:
        return self._image_outputs(self.param.image(state), channel)

    def _image_outputs(self, images, channel=None) -> list:
        """The target layers' pre-activations; with ``channel`` (B,), of each image's one
        channel (tables :func:`~cnnlens.optvis.objective_tables.narrowed` for it)."""
        if channel is None:
            outputs = self.model(images, training=False)
        else:
            outputs = self.channel_model([images, channel], training=False)
        return outputs if isinstance(outputs, (list, tuple)) else [outputs]

    def _step_graph(
        self,
        state,
        channel,
        layers,
        weights,
        masks,
        revive,
        epsilon,
        penalties=None,
        groups=None,
        diversity_layer=None,
        matrices=None,
    ):
        with tf.GradientTape() as tape:
            tape.watch(state)
            revival = self.revival if revive is not None else None
            images = self.param.image(state)
            if matrices is not None:
                images = transforms.warp(images, matrices)
            outputs = self._image_outputs(images, channel)
            objective, pre_objective = objective_tables.evaluate(
                outputs, layers, weights, masks, revival
            )
            ascended = objective
            if revive is not None:
                ascended = objective_tables.ascended(objective, pre_objective, revive)
            if penalties is not None:
                ascended += regularisers.penalty(
                    images,
                    outputs,
                    penalties,
                    groups,
                    diversity_layer,
                    self.param.centre,
                    self.param.unit,
                )
            total = tf.reduce_sum(ascended)
        gradient = tape.gradient(total, state)
        return self.param.update(state, gradient, epsilon), objective

    def _objective_graph(self, state, channel, layers, weights, masks):
        outputs = self._outputs(state, channel)
        return objective_tables.evaluate(outputs, layers, weights, masks, None)[0]

    def _revival_graph(self, state, channel, layers, weights, masks):
        outputs = self._outputs(state, channel)
        return objective_tables.evaluate(outputs, layers, weights, masks, self.revival)[1]

    def _pooled_graph(self, state):
        return [
            tf.reduce_mean(tf.nn.relu(tf.cast(pre, tf.float32)), axis=[1, 2])
            for pre in self._outputs(state)
        ]


def climbing_and_measuring(
    model: keras.Model,
    layer_names: Sequence[str],
    param: Param,
    preprocessing: Preprocessing | None,
    compute_dtype: str = "float32",
    input_shape: Sequence[int | None] | None = None,
    revival: str = "mean",
) -> tuple[AscentEngine, AscentEngine]:
    """(climbing engine, measuring engine): the first climbs ``param`` in ``compute_dtype``, the
    second gives the objectives of images in float32 on pixels (in ``preprocessing``'s input
    range), so that reported values do not depend on the climb's precision or parameterisation.
    One engine serves both when the climb is float32 on pixels."""
    climbing = AscentEngine(
        model, layer_names, input_shape, compute_dtype, revival=revival, param=param
    )
    if compute_dtype == "float32" and isinstance(param, Pixels):
        return climbing, climbing
    measuring = AscentEngine(
        model, layer_names, input_shape, revival=revival, param=Pixels(preprocessing)
    )
    return climbing, measuring


def _batches(count: int, batch_size: int) -> list[tuple[int, int]]:
    """(start, stop) of consecutive batches of at most ``batch_size`` of ``count`` items."""
    return [(start, min(start + batch_size, count)) for start in range(0, count, batch_size)]
