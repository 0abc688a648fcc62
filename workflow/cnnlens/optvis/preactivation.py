"""The pre-activation copy of a CNN: images in, the target layers' outputs before their
activation out.

Targets are conv layers (output (B, H, W, maps)) and dense layers: a dense layer's
pre-activation is given as (B, 1, 1, units), one 1x1 "map" per unit, so every objective reads
it like a conv layer's; for the last (softmax) layer these are the logits. The ascent climbs
functions of these pre-activations. The copy holds the trained weights of the layers up to the
deepest target and gives exactly the original model's pre-activations; four rewrites only make
the ascent cheaper:

* input rows and columns that no target depends on are cropped away (fixed input sizes);
* max pooling runs before the ReLU (the two commute, and the ReLU then sees a quarter of the
  values);
* the first conv layer computes its gradient with respect to the image by a matrix product and
  shifted sums (:class:`~cnnlens.optvis.image_conv.ImageConv2D`), much faster in float32 than
  TensorFlow's own for images of one or few channels (exact for colour images too); it also
  does the crop, whose gradient the shifted sums write for free;
* asked for one channel per image (``channel_per_image``), the one target layer computes
  only each image's own channel (:mod:`.channel_layers`; equal up to rounding, 1e-7
  relative in float32).

Any chain-shaped model works (Sequential, or functional with each layer feeding the next): its
input layer is left out, dropout and other layers that are the identity at inference are
skipped, and normalisation, rescaling and activation layers are copied with their weights. A
conv or dense layer whose ReLU is a layer of its own (``Conv2D(activation=None)``, then
optionally BatchNormalization, then ``Activation("relu")`` or ``ReLU()``) has as its
pre-activation the value that enters that ReLU, so the objective's ReLU of it is the layer's
activation as the model computes it.

Also here: the checks that a layer can be a target, and the choice of the compute dtype.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from cnnlens import device
from cnnlens.errors import CnnLensError
from cnnlens.optvis import channel_layers
from cnnlens.optvis.image_conv import ImageConv2D
from cnnlens.optvis.layer_roles import (
    PER_POSITION_LAYERS,
    activation_of,
    chain_layers,
    is_conv,
    is_copied_with_weights,
    is_dense,
    is_identity_at_inference,
    is_passed_through,
    is_pool,
    last_layer_of,
    separate_relu,
)

COMPUTE_DTYPES = ("float32", "bfloat16")


def preactivation_model(
    model: keras.Model,
    layer_names: Sequence[str],
    input_shape: Sequence[int | None] | None = None,
    compute_dtype: str = "float32",
    channel_per_image: bool = False,
) -> keras.Model:
    """A model mapping images to the pre-activations of the conv or dense layers
    ``layer_names``.

    Outputs are a list, one float32 tensor per name in that order ((B, H, W, maps) for a conv
    layer, (B, 1, 1, units) for a dense one). ``input_shape`` defaults to
    the model's own; ``(None, None, channels)`` gives the fully convolutional conv part (any
    image size). ``compute_dtype="bfloat16"`` runs the layers in bfloat16 (weights stay
    float32). ``channel_per_image``: for one target layer that
    :func:`~cnnlens.optvis.channel_layers.selects_channels`, a model of two inputs, the images
    and each image's channel (B,) int32, whose output holds only that channel, (B, H, W, 1).
    """
    names = list(layer_names)
    if not names:
        raise CnnLensError("no target layer given for the ascent; name at least one conv layer")
    check_compute_dtype(compute_dtype)
    input_shape = tuple(model.input_shape[1:] if input_shape is None else input_shape)
    for name in names:
        require_target_layer(model, name, input_shape)
    chain = chain_layers(model)
    deepest = max(last_layer_of(chain, _layer_index(model, name)) for name in names)
    layers = chain[: deepest + 1]
    policy = "mixed_bfloat16" if compute_dtype == "bfloat16" else "float32"
    channel = _channel_input(model, names) if channel_per_image else None

    inputs = keras.Input(shape=input_shape, name="image")
    crops = _receptive_field_crops(layers, set(names), input_shape)
    fast_first = is_conv(layers[0]) and _takes_fast_input_gradient(layers[0])
    tensor = inputs if fast_first else _crop_to_receptive_field(inputs, crops)
    pre_activations: dict[str, keras.KerasTensor] = {}
    relu_closes: dict[int, str] = {}  # index of a separate ReLU layer -> the layer it closes
    skip_next = False
    for index, layer in enumerate(layers):
        if channel is not None and layer.name == names[0]:
            pre = _channel_pre_activation(layers, index, tensor, channel, policy)
            pre_activations[layer.name] = _named_pre(pre, layer.name)
            break
        if skip_next:
            skip_next = False
        elif index in relu_closes:
            pre_activations[relu_closes[index]] = _named_pre(tensor, relu_closes[index])
            tensor = _copy(layer, policy)(tensor)
        elif is_conv(layer) and activation_of(layer) == "relu":
            pre = _linear_copy(layer, policy, _image_crop(index, fast_first, crops))(tensor)
            pre_activations[layer.name] = _named_pre(pre, layer.name)
            following = layers[index + 1] if index + 1 < len(layers) else None
            skip_next = isinstance(following, keras.layers.MaxPooling2D)
            if skip_next:
                pre = _copy(following, policy)(pre)
            tensor = keras.layers.ReLU(dtype=policy, name=f"{layer.name}_relu")(pre)
        elif is_conv(layer) or (is_dense(layer) and activation_of(layer) == "linear"):
            tensor = _linear_copy(layer, policy, _image_crop(index, fast_first, crops))(tensor)
            relu = separate_relu(layers, index)
            if relu is not None:
                relu_closes[relu] = layer.name
            else:
                pre_activations[layer.name] = _named_pre(tensor, layer.name)
                tensor = _activation_layer(layer, policy)(tensor)
        elif is_pool(layer):
            tensor = _copy(layer, policy)(tensor)
        elif is_dense(layer):
            pre = _linear_copy(layer, policy)(tensor)
            pre_activations[layer.name] = keras.layers.Reshape(
                (1, 1, layer.units), dtype="float32", name=f"{layer.name}_pre"
            )(pre)
            tensor = _dense_activation(layer, policy)(pre)
        elif is_passed_through(layer):
            tensor = _copy(layer, policy)(tensor)
        elif is_identity_at_inference(layer):
            continue
        elif is_copied_with_weights(layer):
            tensor = _copy_with_weights(layer, policy)(tensor)
        else:
            raise CnnLensError(
                f"layer {layer.name!r} ({type(layer).__name__}) lies before a target layer; "
                "only conv, pooling, flatten, global pooling, dropout, normalisation, "
                "rescaling, activation and dense layers can precede the ascent's targets"
            )
    outputs = [pre_activations[name] for name in names]
    if channel is not None:
        return keras.Model([inputs, channel], outputs, name="channel_preactivations")
    return keras.Model(inputs, outputs, name="preactivations")


def selects_channels(model: keras.Model, layer_names: Sequence[str]) -> bool:
    """Whether ``channel_per_image`` applies: one target layer that :mod:`.channel_layers` can
    compute a channel at a time, with at most batch normalisation of each map (and layers
    that are the identity at inference) between it and a ReLU layer of its own."""
    if len(layer_names) != 1:
        return False
    chain = chain_layers(model)
    layer = _layer(model, layer_names[0])
    index = chain.index(layer)
    between = chain[index + 1 : last_layer_of(chain, index)]
    return channel_layers.selects_channels(layer) and all(
        channel_layers.normalises_each_map(other)
        or isinstance(other, keras.layers.Dropout)
        or is_identity_at_inference(other)
        for other in between
    )


def _channel_input(model: keras.Model, names: Sequence[str]) -> keras.KerasTensor:
    """The channel indices' input of a ``channel_per_image`` model."""
    if not selects_channels(model, names):
        raise CnnLensError(
            f"one channel per image needs one conv or dense target with at most batch "
            f"normalisation before its ReLU, not {', '.join(names)}"
        )
    return keras.Input(shape=(), dtype="int32", name="channel")


def _channel_pre_activation(layers, index: int, tensor, channel, policy: str):
    """The pre-activation of the target at ``index``, one channel per image: its channel copy,
    then the batch normalisation between it and its ReLU layer, if any."""
    layer = layers[index]
    kind = channel_layers.ChannelConv2D if is_conv(layer) else channel_layers.ChannelDense
    pre = kind(layer, dtype=policy, name=layer.name)([tensor, channel])
    for other in layers[index + 1 : last_layer_of(layers, index)]:
        if channel_layers.normalises_each_map(other):
            normalise = channel_layers.ChannelNormalization(other, dtype=policy, name=other.name)
            pre = normalise([pre, channel])
    return pre


def _named_pre(tensor: keras.KerasTensor, name: str) -> keras.KerasTensor:
    """``tensor`` as the float32 pre-activation output of layer ``name`` ((B, 1, 1, units)
    for a dense layer's flat output)."""
    if len(tensor.shape) == 2:
        return keras.layers.Reshape((1, 1, tensor.shape[-1]), dtype="float32", name=f"{name}_pre")(
            tensor
        )
    return keras.layers.Activation("linear", dtype="float32", name=f"{name}_pre")(tensor)


def require_target_layer(
    model: keras.Model, name: str, input_shape: Sequence[int | None]
) -> keras.layers.Layer:
    """The conv layer (with a ReLU) or dense layer called ``name``, or a one-line error; a
    dense target needs a fixed input size."""
    layer = _layer(model, name)
    if not is_dense(layer):
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
    if not is_conv(layer):
        convs = ", ".join(other.name for other in model.layers if is_conv(other))
        raise CnnLensError(
            f"layer {name!r} is a {type(layer).__name__}, not a conv layer; OIPs and dreams "
            f"target the conv layers {convs}"
        )
    chain = chain_layers(model)
    separate = separate_relu(chain, chain.index(layer)) is not None
    if activation_of(layer) != "relu" and not separate:
        raise CnnLensError(
            f"conv layer {name!r} has activation {activation_of(layer)!r} and no ReLU layer "
            "follows it; the ascent expects ReLU maps"
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
    for layer in chain_layers(model):
        if layer.name == name:
            return layer
    names = ", ".join(layer.name for layer in chain_layers(model))
    raise CnnLensError(f"unknown layer {name!r}; the model's layers are {names}")


def _layer_index(model: keras.Model, name: str) -> int:
    return [layer.name for layer in chain_layers(model)].index(name)


def _activation_layer(layer: keras.layers.Layer, policy: str) -> keras.layers.Layer:
    """The activation of conv or dense ``layer`` as a layer of its own."""
    return keras.layers.Activation(
        activation_of(layer), dtype=policy, name=f"{layer.name}_activation"
    )


def _dense_activation(layer: keras.layers.Layer, policy: str) -> keras.layers.Layer:
    """The activation of dense ``layer`` as a layer of its own (ReLU as in the conv layers)."""
    activation = getattr(layer.activation, "__name__", str(layer.activation))
    if activation == "relu":
        return keras.layers.ReLU(dtype=policy, name=f"{layer.name}_relu")
    return keras.layers.Activation(activation, dtype=policy, name=f"{layer.name}_activation")


def _receptive_field_crops(layers, targets: set[str], input_shape) -> tuple[int, int]:
    """(rows, columns) at the bottom and right of the input that no target output depends on
    (valid convolutions and pooling that floors leave some unused: the third conv layer of
    the default CNN never sees the last 2 rows and columns). Their gradient is zero anyway."""
    rows, columns = (
        _unused_input_cells(layers, targets, size) if size is not None else 0
        for size in tuple(input_shape)[:2]
    )
    return rows, columns


def _image_crop(index: int, fast_first: bool, crops: tuple[int, int]) -> tuple[int, int] | None:
    """The crop the layer at ``index`` applies itself (an :class:`ImageConv2D` seeing the
    image), or None for a plain copy."""
    return crops if index == 0 and fast_first else None


def _crop_to_receptive_field(inputs, crops: tuple[int, int]):
    """The input without its ``crops`` bottom rows and right columns."""
    if not any(crops):
        return inputs
    return keras.layers.Cropping2D(((0, crops[0]), (0, crops[1])), name="receptive_field")(inputs)


def _unused_input_cells(layers, targets: set[str], size: int) -> int:
    """How many trailing cells of an input dimension of ``size`` no target depends on."""
    sizes = [size]
    for layer in layers:
        window = _crop_window(layer)
        if window is None:
            return 0
        kernel, stride = window
        sizes.append((sizes[-1] - kernel) // stride + 1)
    needed = 0
    for layer, output_size, input_size in zip(layers[::-1], sizes[:0:-1], sizes[-2::-1]):
        if layer.name in targets:
            needed = output_size
        kernel, stride = _crop_window(layer)
        needed = min(input_size, (needed - 1) * stride + kernel) if needed else 0
    return size - needed


def _crop_window(layer) -> tuple[int, int] | None:
    """(kernel, stride) for the crop: a valid conv or pooling window, (1, 1) for a layer that
    works on each position on its own; None for anything else."""
    per_position = isinstance(layer, PER_POSITION_LAYERS) or is_identity_at_inference(layer)
    if per_position and getattr(layer, "axis", -1) in (-1, 3, [-1], [3]):
        return 1, 1
    return _window(layer)


def _window(layer) -> tuple[int, int] | None:
    """(kernel, stride) of a square valid conv or pooling window; None for anything else."""
    config = layer.get_config()
    if config.get("padding") != "valid":
        return None
    if is_conv(layer):
        kernel, strides = config["kernel_size"], config["strides"]
        dilation = config["dilation_rate"]
        if len(set(kernel)) == 1 and tuple(strides) == (1, 1) and tuple(dilation) == (1, 1):
            return kernel[0], 1
    elif is_pool(layer):
        pool, strides = config["pool_size"], config["strides"] or config["pool_size"]
        if len(set(pool)) == 1 and len(set(strides)) == 1:
            return pool[0], strides[0]
    return None


def _copy(layer: keras.layers.Layer, policy: str) -> keras.layers.Layer:
    """A new weightless layer configured like ``layer``, computing in ``policy``."""
    return type(layer).from_config({**layer.get_config(), "dtype": policy})


def _copy_with_weights(layer: keras.layers.Layer, policy: str) -> keras.layers.Layer:
    """A new layer configured like ``layer``, computing in ``policy``, with its weights."""
    copy = _copy(layer, policy)
    copy.build(layer.input.shape)
    if layer.weights:
        copy.set_weights(layer.get_weights())
    return copy


def _linear_copy(
    layer: keras.layers.Layer, policy: str, image_crop: tuple[int, int] | None = None
) -> keras.layers.Layer:
    """A copy of conv or dense ``layer`` without its activation, holding the trained weights.

    ``image_crop``: for the layer that sees the image, when :class:`ImageConv2D` applies
    (valid, stride 1, with bias), the rows and columns it crops; that layer then is one.
    """
    kernel, bias = layer.get_weights()
    if image_crop is not None:
        return ImageConv2D(kernel, bias, image_crop, dtype=policy, name=layer.name)
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
