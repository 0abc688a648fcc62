"""The gradient-ascent engine shared by the OIP search and the dreams (SPEC 4.2-4.4, 5).

A batch of images is optimised together, each image with its own objective, by one compiled
TensorFlow step (:class:`AscentEngine`). For every target layer the objective of image ``b`` has
a row of channel weights ``weights[layer][b, c]`` (one-hot for a single map, uniform for a
whole-layer dream) and optionally a spatial mask ``masks[layer][b, i, j]`` (a single node); it is

    objective_b = sum over layers, channels c of weights[b, c] * mean over positions (or the
                  mask) of ReLU(pre-activation[b, :, :, c])

where the pre-activation is the conv output before its ReLU. With ``revive[b]`` set, an image
whose objective is exactly 0 (so its gradient is 0 too and it would never move) ascends the
same weighted mean of the *pre*-activation instead, until the objective turns positive.

One step (SPEC 4.3) for the whole batch: gradient of the objective w.r.t. the image, divided by
its RMS (+1e-7) per image, times epsilon, added, then each image is standardised again. The
update is always float32; the forward/backward pass may compute in bfloat16
(``compute_dtype``).

Usage::

    from cnnlens import ascent
    from cnnlens.model import load_cnn

    model = load_cnn("results/model/cnn.keras")
    engine = ascent.AscentEngine(model, ["Conv2D_3"])          # or compute_dtype="bfloat16"
    maps = np.arange(128).repeat(4)                            # 4 restarts of every map
    objective = ascent.map_objective(engine, "Conv2D_3", maps, revive=True)
    settings = ascent.AscentSettings(steps=400, snapshot_steps=(0, 9, 18, 36, 72, 144, 288))
    result = ascent.run_ascent(engine, start_images, objective, settings)
    result.images            # (512, 28, 28, 1) float32, standardised
    result.history           # (512, 401) objective after 0..400 steps
    result.snapshots         # (7, 512, 28, 28, 1)
    result.converged_step    # (512,) first step of convergence, -1 if never

    # a whole-layer dream on an image of any size: the fully convolutional conv part
    dreamer = ascent.AscentEngine(model, ["Conv2D_2", "Conv2D_3"], input_shape=(None, None, 1))
    objective = ascent.layer_objective(dreamer, batch=1, layer_weights={"Conv2D_3": 1.0})
    result = ascent.run_ascent(dreamer, photo[None], objective, ascent.AscentSettings(steps=20))

Everything of one image is independent of the other images of the batch and of the chunking:
an image's result does not change when it is optimised in another batch.

Speed (2 CPU cores, benchmarks/README.md): all maps of a layer and their restarts are one
batch; a step costs about 12 MFLOP per image for Conv2D_3, and the engine reaches roughly a
third of the cores' large-matrix-product throughput. bfloat16 compute is about 1.5x faster
on CPUs with AVX512-BF16; XLA (``jit_compile``) is slower on this CPU and is not used.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from cnnlens.errors import CnnLensError
from cnnlens.model import require_layer

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

log = logging.getLogger(__name__)

COMPUTE_DTYPES = ("float32", "bfloat16")
REVIVAL_POOLINGS = ("mean", "max")
RMS_FLOOR = 1e-7
STD_FLOOR = 1e-6


# --------------------------------------------------------------------------------------------
# The pre-activation model
# --------------------------------------------------------------------------------------------


def preactivation_model(
    model: keras.Model,
    layer_names: Sequence[str],
    input_shape: tuple[int | None, ...] = (28, 28, 1),
    compute_dtype: str = "float32",
) -> keras.Model:
    """A model mapping images to the pre-activations (conv output before ReLU) of conv layers.

    Outputs are a list, one float tensor per name of ``layer_names`` in that order. The model
    copies the trained weights of ``model``'s layers up to the deepest target; with
    ``input_shape=(None, None, 1)`` it is the fully convolutional conv part (any image size).
    ``compute_dtype="bfloat16"`` runs the convolutions in bfloat16 (float32 weights kept);
    the outputs are float32 either way.

    The pre-activations are exactly the original model's; three rewrites only make the ascent
    cheaper: input rows and columns no target depends on are cropped away (fixed input sizes),
    max pooling runs before the ReLU (they commute), and the first conv computes its gradient
    w.r.t. the image by a matrix product (:func:`image_conv_class`).
    """
    import keras

    names = list(layer_names)
    if not names:
        raise CnnLensError("no target layer given for the ascent; name at least one conv layer")
    check_compute_dtype(compute_dtype)
    for name in names:
        require_conv_layer(model, name)
    deepest = max(_layer_index(model, name) for name in names)
    layers = model.layers[: deepest + 1]
    policy = "mixed_bfloat16" if compute_dtype == "bfloat16" else "float32"

    inputs = keras.Input(shape=tuple(input_shape), name="image")
    tensor = _crop_to_receptive_field(inputs, layers, set(names), input_shape)
    pre_activations: dict[str, keras.KerasTensor] = {}
    skip_next = False
    for index, layer in enumerate(layers):
        if skip_next:
            skip_next = False
        elif _is_conv(layer):
            pre = _linear_copy(layer, policy, fast_input_gradient=index == 0)(tensor)
            pre_activations[layer.name] = keras.layers.Activation(
                "linear", dtype="float32", name=f"{layer.name}_pre"
            )(pre)
            # max pooling commutes with ReLU: pooling first leaves a quarter of the ReLU work
            following = layers[index + 1] if index + 1 < len(layers) else None
            skip_next = isinstance(following, keras.layers.MaxPooling2D)
            if skip_next:
                pre = _copy(following, policy)(pre)
            tensor = keras.layers.ReLU(dtype=policy, name=f"{layer.name}_relu")(pre)
        elif _is_pool(layer):
            tensor = _copy(layer, policy)(tensor)
        else:
            raise CnnLensError(
                f"layer {layer.name!r} ({type(layer).__name__}) lies before a target conv layer; "
                "only conv and pooling layers can precede the ascent's targets"
            )
    return keras.Model(inputs, [pre_activations[name] for name in names], name="preactivations")


def _crop_to_receptive_field(inputs, layers, targets: set[str], input_shape):
    """Drop the bottom rows and right columns of the input that no target output depends on
    (valid convolutions and pooling that floors leave some unused: Conv2D_3 of the study's CNN
    never sees the last 2 rows and columns). Their gradient is zero either way."""
    import keras

    crops = [
        _unused_input_cells(layers, targets, size) if size is not None else 0
        for size in tuple(input_shape)[:2]
    ]
    if not any(crops):
        return inputs
    return keras.layers.Cropping2D(((0, crops[0]), (0, crops[1])), name="receptive_field")(inputs)


def _unused_input_cells(layers, targets: set[str], size: int) -> int:
    """How many trailing cells of an input dimension of ``size`` no target depends on."""
    sizes = [size]
    for layer in layers:
        window = _window(layer)
        if window is None:
            return 0
        kernel, stride = window
        sizes.append((sizes[-1] - kernel) // stride + 1)
    needed = 0
    for layer, output_size, input_size in zip(layers[::-1], sizes[:0:-1], sizes[-2::-1]):
        if layer.name in targets:
            needed = output_size
        kernel, stride = _window(layer)
        needed = min(input_size, (needed - 1) * stride + kernel) if needed else 0
    return size - needed


def _window(layer) -> tuple[int, int] | None:
    """(kernel, stride) of a square valid conv or pooling window; None for anything else."""
    config = layer.get_config()
    if config.get("padding") != "valid":
        return None
    if _is_conv(layer):
        kernel, strides, dilation = (
            config["kernel_size"],
            config["strides"],
            config["dilation_rate"],
        )
        if len(set(kernel)) == 1 and tuple(strides) == (1, 1) and tuple(dilation) == (1, 1):
            return kernel[0], 1
    elif _is_pool(layer):
        pool, strides = config["pool_size"], config["strides"] or config["pool_size"]
        if len(set(pool)) == 1 and len(set(strides)) == 1:
            return pool[0], strides[0]
    return None


def require_conv_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """The conv layer called ``name`` (with a ReLU), or a one-line error."""
    layer = require_layer(model, name)
    if not _is_conv(layer):
        convs = ", ".join(other.name for other in model.layers if _is_conv(other))
        raise CnnLensError(
            f"layer {name!r} is a {type(layer).__name__}, not a conv layer; OIPs and dreams "
            f"target the conv layers {convs}"
        )
    activation = getattr(layer.activation, "__name__", str(layer.activation))
    if activation != "relu":
        raise CnnLensError(
            f"conv layer {name!r} has activation {activation!r}; the ascent expects ReLU"
        )
    return layer


def check_compute_dtype(compute_dtype: str) -> None:
    """Raise unless ``compute_dtype`` is one the engine supports."""
    if compute_dtype not in COMPUTE_DTYPES:
        raise CnnLensError(
            f"unknown compute dtype {compute_dtype!r}; choose one of {', '.join(COMPUTE_DTYPES)}"
        )


def resolve_compute_dtype(setting: str, cpuinfo: str = "/proc/cpuinfo") -> str:
    """``"auto"``: bfloat16 on a CPU with native bfloat16 arithmetic (AVX512-BF16 or AMX,
    about 1.5x faster there) and no GPU, float32 otherwise; other settings unchanged."""
    if setting != "auto":
        check_compute_dtype(setting)
        return setting
    from cnnlens.runtime import has_gpu

    try:
        flags = set(open(cpuinfo).read().split())
    except OSError:
        flags = set()
    native = bool(flags & {"avx512_bf16", "amx_bf16"})
    return "bfloat16" if native and not has_gpu() else "float32"


def _is_conv(layer: keras.layers.Layer) -> bool:
    import keras

    return isinstance(layer, keras.layers.Conv2D)


def _is_pool(layer: keras.layers.Layer) -> bool:
    import keras

    return isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D))


def _layer_index(model: keras.Model, name: str) -> int:
    return [layer.name for layer in model.layers].index(name)


def _copy(layer: keras.layers.Layer, policy: str) -> keras.layers.Layer:
    """A new weightless layer configured like ``layer``, computing in ``policy``."""
    return type(layer).from_config({**layer.get_config(), "dtype": policy})


def _linear_copy(
    layer: keras.layers.Layer, policy: str, fast_input_gradient: bool = False
) -> keras.layers.Layer:
    """A copy of conv ``layer`` without its activation, holding the trained weights.

    ``fast_input_gradient``: for the layer that sees the image, a copy whose gradient w.r.t.
    its input is a matrix product and shifted sums (:func:`image_conv_class`), when it applies.
    """
    kernel, bias = layer.get_weights()
    if fast_input_gradient and _takes_fast_input_gradient(layer):
        return image_conv_class()(kernel, bias, dtype=policy, name=layer.name)
    config = {**layer.get_config(), "activation": "linear", "dtype": policy}
    config.pop("kernel_regularizer", None)
    copy = type(layer).from_config(config)
    copy.build(layer.input.shape)
    copy.set_weights([kernel, bias])
    return copy


def _takes_fast_input_gradient(layer: keras.layers.Layer) -> bool:
    """Whether :func:`image_conv_class` can replace conv ``layer``: valid, stride 1, bias."""
    window = _window(layer)
    return window is not None and window[1] == 1 and layer.use_bias and layer.groups == 1


@lru_cache(maxsize=1)
def image_conv_class() -> type:
    """The Keras layer class ImageConv2D (built on first use: Keras loads only then)."""
    import keras
    import tensorflow as tf

    class ImageConv2D(keras.layers.Layer):
        """A valid, stride-1 convolution (no activation) of the image itself, with a faster
        gradient w.r.t. the image: TensorFlow's conv2d_backprop_input is slow for images of
        one or few channels, a matrix product followed by shifted sums is not."""

        def __init__(self, kernel: np.ndarray, bias: np.ndarray, **kwargs) -> None:
            super().__init__(**kwargs)
            self.kernel_value = np.asarray(kernel, np.float32)
            self.bias_value = np.asarray(bias, np.float32)

        def build(self, input_shape) -> None:
            self.kernel = self.add_weight(
                shape=self.kernel_value.shape, initializer="zeros", trainable=False, name="kernel"
            )
            self.bias = self.add_weight(
                shape=self.bias_value.shape, initializer="zeros", trainable=False, name="bias"
            )
            self.kernel.assign(self.kernel_value)
            self.bias.assign(self.bias_value)

        def call(self, images):
            kernel = tf.cast(self.kernel, self.compute_dtype)
            bias = tf.cast(self.bias, self.compute_dtype)
            return tf.nn.bias_add(
                _convolve_image(tf.cast(images, self.compute_dtype), kernel), bias
            )

        def compute_output_shape(self, input_shape):
            height, width = self.kernel_value.shape[:2]
            rows, columns = input_shape[1:3]
            return (
                input_shape[0],
                None if rows is None else rows - height + 1,
                None if columns is None else columns - width + 1,
                self.kernel_value.shape[-1],
            )

    def _convolve_image(images, kernel):
        @tf.custom_gradient
        def convolve(images):
            outputs = tf.nn.conv2d(images, kernel, 1, "VALID")

            def gradient(upstream):
                height, width, channels, filters = kernel.shape
                flat = tf.reshape(kernel, [height * width * channels, filters])
                # each output position's gradient spread over its window of input pixels
                windows = tf.einsum("bhwf,kf->bhwk", upstream, flat)
                shape = tf.shape(windows)
                windows = tf.reshape(
                    windows, [shape[0], shape[1], shape[2], height, width, channels]
                )
                total = 0.0
                for row in range(height):
                    for column in range(width):
                        total += tf.pad(
                            windows[:, :, :, row, column, :],
                            [[0, 0], [row, height - 1 - row], [column, width - 1 - column], [0, 0]],
                        )
                return total

            return outputs, gradient

        return convolve(images)

    return ImageConv2D


# --------------------------------------------------------------------------------------------
# Objectives
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Objective:
    """What each image of a batch maximises.

    ``weights[l]`` is (batch, channels of layer l) float32; ``masks[l]`` is None (mean over all
    positions) or (batch, height, width) float32 weights summing to 1 per image (a node: one 1);
    ``revive`` (batch,) bool switches on pre-activation ascent for images stuck at 0.
    Layers are those of the engine, in its order.
    """

    weights: tuple[np.ndarray, ...]
    masks: tuple[np.ndarray | None, ...]
    revive: np.ndarray

    @property
    def batch(self) -> int:
        return len(self.revive)

    def take(self, index: np.ndarray | slice) -> Objective:
        """The objective of a subset of the images."""
        return Objective(
            weights=tuple(weight[index] for weight in self.weights),
            masks=tuple(None if mask is None else mask[index] for mask in self.masks),
            revive=self.revive[index],
        )


def map_objective(
    engine: AscentEngine,
    layer: str,
    maps: Sequence[int] | np.ndarray,
    nodes: Sequence[tuple[int, int]] | np.ndarray | None = None,
    revive: bool | np.ndarray = False,
) -> Objective:
    """One map per image (``maps[b]`` of ``layer``), its mean or one node ``nodes[b] = (i, j)``."""
    maps = np.asarray(maps, dtype=np.int64).reshape(-1)
    position = engine.layer_position(layer)
    channels = engine.channels[position]
    if maps.size and (maps.min() < 0 or maps.max() >= channels):
        raise CnnLensError(
            f"map index {int(maps.max() if maps.max() >= channels else maps.min())} is out of "
            f"range for {layer}, which has maps 0..{channels - 1}"
        )
    weights = [np.zeros((maps.size, size), np.float32) for size in engine.channels]
    weights[position][np.arange(maps.size), maps] = 1.0
    masks: list[np.ndarray | None] = [None] * len(engine.layer_names)
    if nodes is not None:
        masks[position] = node_masks(engine.spatial_shape(layer), nodes, layer)
    return Objective(tuple(weights), tuple(masks), _revive_flags(revive, maps.size))


def layer_objective(
    engine: AscentEngine,
    batch: int,
    layer_weights: Mapping[str, float] | None = None,
    revive: bool | np.ndarray = False,
) -> Objective:
    """Every map of each layer with the same weight: ``layer_weights[name] / channels``.

    Default: weight 1 for every layer of the engine (the mean over all its maps).
    """
    layer_weights = dict(layer_weights or {name: 1.0 for name in engine.layer_names})
    for name in layer_weights:
        engine.layer_position(name)
    weights = tuple(
        np.full((batch, channels), layer_weights.get(name, 0.0) / channels, np.float32)
        for name, channels in zip(engine.layer_names, engine.channels)
    )
    masks = (None,) * len(engine.layer_names)
    return Objective(weights, masks, _revive_flags(revive, batch))


def node_masks(
    shape: tuple[int, int], nodes: Sequence[tuple[int, int]] | np.ndarray, layer: str = "layer"
) -> np.ndarray:
    """(batch, height, width) masks selecting node ``nodes[b] = (i, j)`` of each image."""
    nodes = np.asarray(nodes, dtype=np.int64).reshape(-1, 2)
    height, width = shape
    if nodes.size and (
        nodes[:, 0].min() < 0
        or nodes[:, 0].max() >= height
        or nodes[:, 1].min() < 0
        or nodes[:, 1].max() >= width
    ):
        raise CnnLensError(
            f"node out of range for {layer}, whose maps are {height}x{width}: "
            "use 0 <= i < height, 0 <= j < width"
        )
    masks = np.zeros((len(nodes), height, width), np.float32)
    masks[np.arange(len(nodes)), nodes[:, 0], nodes[:, 1]] = 1.0
    return masks


def _revive_flags(revive: bool | np.ndarray, batch: int) -> np.ndarray:
    flags = np.broadcast_to(np.asarray(revive, dtype=bool), (batch,))
    return np.array(flags)


# --------------------------------------------------------------------------------------------
# The compiled step
# --------------------------------------------------------------------------------------------


def standardise(images: tf.Tensor) -> tf.Tensor:
    """Each image (first axis) to zero mean and unit variance over its pixels."""
    import tensorflow as tf

    mean, variance = tf.nn.moments(images, axes=[1, 2, 3], keepdims=True)
    return (images - mean) / tf.maximum(tf.sqrt(variance), STD_FLOOR)


class AscentEngine:
    """A pre-activation model of some conv layers and its compiled ascent step.

    ``model`` is the trained CNN; ``input_shape=(None, None, 1)`` gives the fully
    convolutional conv part for images of any size (dreams). ``revival`` says what a stuck
    image (objective exactly 0, revival on) ascends instead: the weighted ``"mean"`` of the
    pre-activation over positions (or the mask), or its ``"max"`` over positions, which
    concentrates the climb on the position closest to firing and wakes maps much sooner.
    ``jit_compile`` compiles the step with XLA (several times slower on CPUs; for GPUs).
    """

    def __init__(
        self,
        model: keras.Model,
        layer_names: Sequence[str],
        input_shape: tuple[int | None, ...] = (28, 28, 1),
        compute_dtype: str = "float32",
        revival: str = "mean",
        jit_compile: bool = False,
    ) -> None:
        import tensorflow as tf

        if revival not in REVIVAL_POOLINGS:
            raise CnnLensError(
                f"unknown revival pooling {revival!r}; choose one of {', '.join(REVIVAL_POOLINGS)}"
            )
        self.layer_names = tuple(layer_names)
        self.compute_dtype = compute_dtype
        self.revival = revival
        self.model = preactivation_model(model, self.layer_names, input_shape, compute_dtype)
        self.channels = tuple(int(output.shape[-1]) for output in self.model.outputs)
        self.output_shapes = tuple(tuple(output.shape[1:]) for output in self.model.outputs)
        self._step = tf.function(
            self._step_graph, reduce_retracing=True, jit_compile=jit_compile or None
        )
        self._evaluate = tf.function(self._objective_graph, reduce_retracing=True)
        self._revival = tf.function(self._revival_graph, reduce_retracing=True)
        self._pooled = tf.function(self._pooled_graph, reduce_retracing=True)

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
                "node objectives need a fixed input size such as (28, 28, 1)"
            )
        return int(height), int(width)

    # ---- graph functions (traced by tf.function) ----

    def _objectives(self, images, weights, masks, revive):
        """(objective, revival objective) per image; the latter only when ``revive``."""
        import tensorflow as tf

        outputs = self.model(images, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        objective = 0.0
        pre_objective = 0.0
        for pre, weight, mask in zip(outputs, weights, masks):
            pre = tf.cast(pre, tf.float32)
            objective += tf.reduce_sum(weight * _pool(tf.nn.relu(pre), mask), axis=1)
            if revive:
                pooled = _pool(pre, mask, self.revival == "max")
                pre_objective += tf.reduce_sum(weight * pooled, axis=1)
        return objective, pre_objective

    def _step_graph(self, images, weights, masks, revive, epsilon):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(images)
            objective, pre_objective = self._objectives(images, weights, masks, revive is not None)
            ascended = objective
            if revive is not None:
                ascended = tf.where(revive & (objective <= 0.0), pre_objective, objective)
            total = tf.reduce_sum(ascended)
        gradient = tape.gradient(total, images)
        rms = tf.sqrt(tf.reduce_mean(tf.square(gradient), axis=[1, 2, 3], keepdims=True))
        moved = images + epsilon * gradient / (rms + RMS_FLOOR)
        return standardise(moved), objective

    def _objective_graph(self, images, weights, masks):
        return self._objectives(images, weights, masks, False)[0]

    def _revival_graph(self, images, weights, masks):
        return self._objectives(images, weights, masks, True)[1]

    def _pooled_graph(self, images):
        import tensorflow as tf

        outputs = self.model(images, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return [
            tf.reduce_mean(tf.nn.relu(tf.cast(pre, tf.float32)), axis=[1, 2]) for pre in outputs
        ]

    # ---- eager entry points ----

    def step(
        self, images: tf.Tensor | np.ndarray, objective: Objective, epsilon: float
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """One ascent step of the whole batch: (new images, objective of the given images)."""
        import tensorflow as tf

        weights, masks, revive = _objective_tensors(objective)
        return self._step(
            tf.convert_to_tensor(images, tf.float32),
            weights,
            masks,
            revive,
            tf.constant(epsilon, tf.float32),
        )

    def objective_tensor(self, images: tf.Tensor, objective: Objective) -> tf.Tensor:
        """The objective of each image of one batch (no step), as a tensor."""
        weights, masks, _ = _objective_tensors(objective)
        return self._evaluate(images, weights, masks)

    def objective(
        self, images: np.ndarray, objective: Objective, chunk_size: int = 1024
    ) -> np.ndarray:
        """The objective of each image (no step), in chunks of ``chunk_size`` images."""
        values = []
        for start in range(0, len(images), chunk_size):
            part = objective.take(slice(start, start + chunk_size))
            chunk = _as_tensor(images[start : start + chunk_size])
            values.append(self.objective_tensor(chunk, part).numpy())
        return np.concatenate(values) if values else np.zeros(0, np.float32)

    def revival_score(
        self, images: np.ndarray, objective: Objective, chunk_size: int = 1024
    ) -> np.ndarray:
        """What a stuck image would climb: the weighted mean or max (``revival``) of the
        pre-activation; the higher, the closer the image is to making its maps fire."""
        values = []
        for start in range(0, len(images), chunk_size):
            weights, masks, _ = _objective_tensors(objective.take(slice(start, start + chunk_size)))
            chunk = _as_tensor(images[start : start + chunk_size])
            values.append(self._revival(chunk, weights, masks).numpy())
        return np.concatenate(values) if values else np.zeros(0, np.float32)

    def mean_activations(self, images: np.ndarray, chunk_size: int = 1024) -> list[np.ndarray]:
        """Per layer, (N, channels): every map's mean ReLU activation over its positions."""
        parts = [
            [
                value.numpy()
                for value in self._pooled(_as_tensor(images[start : start + chunk_size]))
            ]
            for start in range(0, len(images), chunk_size)
        ]
        return [np.concatenate(layer) for layer in zip(*parts)]


def _pool(values, mask, maximum: bool = False):
    """(batch, channels): mean (or maximum) over positions, or the mask-weighted sum."""
    import tensorflow as tf

    if mask is None:
        reduce = tf.reduce_max if maximum else tf.reduce_mean
        return reduce(values, axis=[1, 2])
    return tf.einsum("bhw,bhwc->bc", mask, values)


def _as_tensor(array: np.ndarray):
    import tensorflow as tf

    return tf.convert_to_tensor(np.asarray(array, np.float32))


def _objective_tensors(objective: Objective):
    """Weights, masks and revival flags as tensors (revival None when no image uses it)."""
    import tensorflow as tf

    weights = tuple(tf.convert_to_tensor(weight, tf.float32) for weight in objective.weights)
    masks = tuple(
        None if mask is None else tf.convert_to_tensor(mask, tf.float32) for mask in objective.masks
    )
    revive = tf.convert_to_tensor(objective.revive) if objective.revive.any() else None
    return weights, masks, revive


# --------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AscentSettings:
    """How long and how far to climb (SPEC 4.3, 4.4).

    ``snapshot_steps``: steps (0 = start image, ``steps`` = final) at which images are kept.
    Convergence: relative change of a positive objective below ``threshold`` for ``patience``
    steps in a row. ``early_stop`` freezes converged images and ends when all have converged.
    ``chunk_size`` bounds the images processed at once (memory only; results do not depend on it).
    """

    steps: int = 400
    epsilon: float = 0.01
    threshold: float = 5e-4
    patience: int = 5
    early_stop: bool = False
    snapshot_steps: tuple[int, ...] = ()
    chunk_size: int = 512

    def __post_init__(self) -> None:
        if self.steps < 0 or self.patience < 1 or self.chunk_size < 1:
            raise CnnLensError(
                "ascent settings need steps >= 0, patience >= 1 and chunk_size >= 1; fix the config"
            )
        bad = [step for step in self.snapshot_steps if not 0 <= step <= self.steps]
        if bad:
            raise CnnLensError(
                f"snapshot steps {bad} lie outside 0..{self.steps}; fix the snapshot list"
            )

    def with_steps(self, steps: int) -> AscentSettings:
        """The same settings for ``steps`` steps (snapshots beyond it dropped)."""
        return replace(
            self, steps=steps, snapshot_steps=tuple(s for s in self.snapshot_steps if s <= steps)
        )


@dataclass
class AscentResult:
    """What :func:`run_ascent` returns, images in the order given."""

    images: np.ndarray  # (B, H, W, 1) final images
    history: np.ndarray  # (B, steps + 1) objective after 0..steps steps (frozen value after stop)
    snapshots: np.ndarray  # (S, B, H, W, 1) images at settings.snapshot_steps
    snapshot_steps: tuple[int, ...]
    converged_step: np.ndarray  # (B,) first step at which convergence was reached, -1 if never
    steps_run: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (B,) updates

    @property
    def objective(self) -> np.ndarray:
        """(B,) objective of the final images."""
        return self.history[:, -1]


def run_ascent(
    engine: AscentEngine,
    images: np.ndarray,
    objective: Objective,
    settings: AscentSettings | None = None,
) -> AscentResult:
    """Climb ``settings.steps`` steps from ``images`` (B, H, W, 1), each image its own objective.

    Chunks of ``settings.chunk_size`` images are optimised one after the other; default
    settings: :class:`AscentSettings` ().
    """
    settings = AscentSettings() if settings is None else settings
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or len(images) != objective.batch:
        raise CnnLensError(
            f"ascent got images of shape {images.shape} for {objective.batch} objectives; "
            "give (batch, height, width, 1) images, one per objective"
        )
    parts = [
        _run_chunk(
            engine,
            images[start : start + settings.chunk_size],
            objective.take(slice(start, start + settings.chunk_size)),
            settings,
        )
        for start in range(0, len(images), settings.chunk_size)
    ]
    if not parts:
        return _empty_result(images, settings)
    return AscentResult(
        images=np.concatenate([part.images for part in parts]),
        history=np.concatenate([part.history for part in parts]),
        snapshots=np.concatenate([part.snapshots for part in parts], axis=1),
        snapshot_steps=settings.snapshot_steps,
        converged_step=np.concatenate([part.converged_step for part in parts]),
        steps_run=np.concatenate([part.steps_run for part in parts]),
    )


def _empty_result(images: np.ndarray, settings: AscentSettings) -> AscentResult:
    return AscentResult(
        images=images.copy(),
        history=np.zeros((0, settings.steps + 1), np.float32),
        snapshots=np.zeros((len(settings.snapshot_steps), *images.shape), np.float32),
        snapshot_steps=settings.snapshot_steps,
        converged_step=np.zeros(0, np.int64),
        steps_run=np.zeros(0, np.int64),
    )


class _ConvergenceTracker:
    """Counts, per image, the steps in a row with a small relative change of the objective."""

    def __init__(self, batch: int, threshold: float, patience: int) -> None:
        self.threshold = threshold
        self.patience = patience
        self.streak = np.zeros(batch, np.int64)
        self.previous = np.full(batch, np.nan, np.float64)
        self.converged_step = np.full(batch, -1, np.int64)

    def update(self, step: int, index: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Record objective ``values`` of images ``index`` at ``step``; return those that have
        just converged (as a boolean mask over ``index``)."""
        previous = self.previous[index]
        change = np.abs(values - previous) / np.maximum(np.abs(previous), 1e-12)
        small = (values > 0) & (change < self.threshold)
        self.streak[index] = np.where(small, self.streak[index] + 1, 0)
        self.previous[index] = values
        newly = (self.streak[index] >= self.patience) & (self.converged_step[index] < 0)
        self.converged_step[index[newly]] = step
        return newly


def _run_chunk(
    engine: AscentEngine, images: np.ndarray, objective: Objective, settings: AscentSettings
) -> AscentResult:
    """The ascent loop for one chunk; with early stop, converged images leave the batch."""
    import tensorflow as tf

    batch = len(images)
    history = np.zeros((batch, settings.steps + 1), np.float32)
    snapshots = np.zeros((len(settings.snapshot_steps), *images.shape), np.float32)
    final = images.copy()
    steps_run = np.full(batch, settings.steps, np.int64)
    tracker = _ConvergenceTracker(batch, settings.threshold, settings.patience)
    active = np.arange(batch)
    current = tf.convert_to_tensor(images)
    active_objective = objective
    for step in range(settings.steps + 1):
        if step < settings.steps:
            following, values = engine.step(current, active_objective, settings.epsilon)
        else:
            following, values = None, engine.objective_tensor(current, active_objective)
        values = values.numpy()
        history[active, step:] = values[:, None]
        _keep_snapshots(snapshots, settings.snapshot_steps, step, active, current)
        newly = tracker.update(step, active, values)
        if settings.early_stop and newly.any() and step < settings.steps:
            final[active[newly]] = current.numpy()[newly]
            _fill_later_snapshots(snapshots, settings.snapshot_steps, step, active[newly], final)
            steps_run[active[newly]] = step
            keep = ~newly
            active = active[keep]
            active_objective = active_objective.take(keep)
            following = tf.boolean_mask(following, keep)
            if not active.size:
                break
        if following is not None:
            current = following
    if active.size:
        final[active] = current.numpy()
    return AscentResult(
        final, history, snapshots, settings.snapshot_steps, tracker.converged_step, steps_run
    )


def _keep_snapshots(snapshots, snapshot_steps, step, active, current) -> None:
    for slot, snapshot_step in enumerate(snapshot_steps):
        if snapshot_step == step:
            snapshots[slot, active] = current.numpy()


def _fill_later_snapshots(snapshots, snapshot_steps, step, frozen, final) -> None:
    """Frozen images stay as they are: later snapshots show the frozen image."""
    for slot, snapshot_step in enumerate(snapshot_steps):
        if snapshot_step > step:
            snapshots[slot, frozen] = final[frozen]
