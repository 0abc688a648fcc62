"""The pre-activation copy of a CNN: images in, the target layers' outputs before their
activation out.

Targets are conv layers (output (B, H, W, maps)) and dense layers: a dense layer's
pre-activation is given as (B, 1, 1, units), one 1x1 "map" per unit, so every objective reads
it like a conv layer's; for the last (softmax) layer these are the logits. The ascent climbs
functions of these pre-activations. The copy holds the trained weights of the layers up to the
deepest target and gives exactly the original model's pre-activations; three rewrites only make
the ascent cheaper:

* input rows and columns that no target depends on are cropped away (fixed input sizes);
* max pooling runs before the ReLU (the two commute, and the ReLU then sees a quarter of the
  values);
* the first conv layer computes its gradient with respect to the image by a matrix product and
  shifted sums (:class:`ImageConv2D`), much faster than TensorFlow's own for one-channel images.

Also here: the checks that a layer can be a target, and the choice of the compute dtype.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from cnnlens import device
from cnnlens.errors import CnnLensError

COMPUTE_DTYPES = ("float32", "bfloat16")


def preactivation_model(
    model: keras.Model,
    layer_names: Sequence[str],
    input_shape: Sequence[int | None] | None = None,
    compute_dtype: str = "float32",
) -> keras.Model:
    """A model mapping images to the pre-activations of the conv or dense layers
    ``layer_names``.

    Outputs are a list, one float32 tensor per name in that order ((B, H, W, maps) for a conv
    layer, (B, 1, 1, units) for a dense one). ``input_shape`` defaults to
    the model's own; ``(None, None, channels)`` gives the fully convolutional conv part (any
    image size). ``compute_dtype="bfloat16"`` runs the layers in bfloat16 (weights stay
    float32).
    """
    names = list(layer_names)
    if not names:
        raise CnnLensError("no target layer given for the ascent; name at least one conv layer")
    check_compute_dtype(compute_dtype)
    input_shape = tuple(model.input_shape[1:] if input_shape is None else input_shape)
    for name in names:
        require_target_layer(model, name, input_shape)
    deepest = max(_layer_index(model, name) for name in names)
    layers = model.layers[: deepest + 1]
    policy = "mixed_bfloat16" if compute_dtype == "bfloat16" else "float32"

    inputs = keras.Input(shape=input_shape, name="image")
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
            following = layers[index + 1] if index + 1 < len(layers) else None
            skip_next = isinstance(following, keras.layers.MaxPooling2D)
            if skip_next:
                pre = _copy(following, policy)(pre)
            tensor = keras.layers.ReLU(dtype=policy, name=f"{layer.name}_relu")(pre)
        elif _is_pool(layer):
            tensor = _copy(layer, policy)(tensor)
        elif _is_dense(layer):
            pre = _linear_copy(layer, policy)(tensor)
            pre_activations[layer.name] = keras.layers.Reshape(
                (1, 1, layer.units), dtype="float32", name=f"{layer.name}_pre"
            )(pre)
            tensor = _dense_activation(layer, policy)(pre)
        elif _is_passed_through(layer):
            tensor = _copy(layer, policy)(tensor)
        else:
            raise CnnLensError(
                f"layer {layer.name!r} ({type(layer).__name__}) lies before a target layer; "
                "only conv, pooling, flatten, dropout and dense layers can precede the ascent's "
                "targets"
            )
    return keras.Model(inputs, [pre_activations[name] for name in names], name="preactivations")


def require_target_layer(
    model: keras.Model, name: str, input_shape: Sequence[int | None]
) -> keras.layers.Layer:
    """The conv layer (with a ReLU) or dense layer called ``name``, or a one-line error; a
    dense target needs a fixed input size."""
    layer = _layer(model, name)
    if not _is_dense(layer):
        return require_conv_layer(model, name)
    if any(side is None for side in tuple(input_shape)[:2]):
        raise CnnLensError(
            f"dense layer {name!r} needs images of the model's input size, not {input_shape}; "
            "only conv layers can be climbed on images of any size"
        )
    return layer


def require_conv_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """The conv layer called ``name`` (with a ReLU), or a one-line error."""
    layer = _layer(model, name)
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
    try:
        with open(cpuinfo) as stream:
            flags = set(stream.read().split())
    except OSError:
        flags = set()
    native = bool(flags & {"avx512_bf16", "amx_bf16"})
    return "bfloat16" if native and not device.has_gpu() else "float32"


def _layer(model: keras.Model, name: str) -> keras.layers.Layer:
    for layer in model.layers:
        if layer.name == name:
            return layer
    names = ", ".join(layer.name for layer in model.layers)
    raise CnnLensError(f"unknown layer {name!r}; the model's layers are {names}")


def _layer_index(model: keras.Model, name: str) -> int:
    return [layer.name for layer in model.layers].index(name)


def _is_conv(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, keras.layers.Conv2D)


def _is_pool(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D))


def _is_dense(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, keras.layers.Dense)


def _is_passed_through(layer: keras.layers.Layer) -> bool:
    """Weightless layers copied as they are (dropout is the identity at inference)."""
    return isinstance(layer, (keras.layers.Flatten, keras.layers.Dropout))


def _dense_activation(layer: keras.layers.Layer, policy: str) -> keras.layers.Layer:
    """The activation of dense ``layer`` as a layer of its own (ReLU as in the conv layers)."""
    activation = getattr(layer.activation, "__name__", str(layer.activation))
    if activation == "relu":
        return keras.layers.ReLU(dtype=policy, name=f"{layer.name}_relu")
    return keras.layers.Activation(activation, dtype=policy, name=f"{layer.name}_activation")


def _crop_to_receptive_field(inputs, layers, targets: set[str], input_shape):
    """Drop the bottom rows and right columns of the input that no target output depends on
    (valid convolutions and pooling that floors leave some unused: the third conv layer of
    the default CNN never sees the last 2 rows and columns). Their gradient is zero anyway."""
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
        kernel, strides = config["kernel_size"], config["strides"]
        dilation = config["dilation_rate"]
        if len(set(kernel)) == 1 and tuple(strides) == (1, 1) and tuple(dilation) == (1, 1):
            return kernel[0], 1
    elif _is_pool(layer):
        pool, strides = config["pool_size"], config["strides"] or config["pool_size"]
        if len(set(pool)) == 1 and len(set(strides)) == 1:
            return pool[0], strides[0]
    return None


def _copy(layer: keras.layers.Layer, policy: str) -> keras.layers.Layer:
    """A new weightless layer configured like ``layer``, computing in ``policy``."""
    return type(layer).from_config({**layer.get_config(), "dtype": policy})


def _linear_copy(
    layer: keras.layers.Layer, policy: str, fast_input_gradient: bool = False
) -> keras.layers.Layer:
    """A copy of conv or dense ``layer`` without its activation, holding the trained weights.

    ``fast_input_gradient``: for the layer that sees the image, an :class:`ImageConv2D`
    when it applies (valid, stride 1, with bias).
    """
    kernel, bias = layer.get_weights()
    if fast_input_gradient and _takes_fast_input_gradient(layer):
        return ImageConv2D(kernel, bias, dtype=policy, name=layer.name)
    config = {**layer.get_config(), "activation": "linear", "dtype": policy}
    config.pop("kernel_regularizer", None)
    copy = type(layer).from_config(config)
    copy.build(layer.input.shape)
    copy.set_weights([kernel, bias])
    return copy


def _takes_fast_input_gradient(layer: keras.layers.Layer) -> bool:
    """Whether :class:`ImageConv2D` can replace conv ``layer``: valid, stride 1, bias."""
    window = _window(layer)
    return window is not None and window[1] == 1 and layer.use_bias and layer.groups == 1


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
        return tf.nn.bias_add(_convolve_image(tf.cast(images, self.compute_dtype), kernel), bias)

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
    """``conv2d(images, kernel)`` (valid) whose input gradient spreads each output position's
    gradient over its window of input pixels by one matrix product and shifted sums."""

    @tf.custom_gradient
    def convolve(images):
        outputs = tf.nn.conv2d(images, kernel, 1, "VALID")

        def gradient(upstream):
            height, width, channels, filters = kernel.shape
            flat = tf.reshape(kernel, [height * width * channels, filters])
            windows = tf.einsum("bhwf,kf->bhwk", upstream, flat)
            shape = tf.shape(windows)
            windows = tf.reshape(windows, [shape[0], shape[1], shape[2], height, width, channels])
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
