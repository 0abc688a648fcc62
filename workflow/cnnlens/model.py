"""The CNN: built from the ``model.architecture`` list of the config, loaded back, described.

:func:`describe` reads a model's layers, output shapes and receptive fields into the
:class:`~cnnlens.network.Network` every later stage works from, so no stage needs to know
the network in advance.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from cnnlens import integrity
from cnnlens.errors import CnnLensError
from cnnlens.network import Network, Window, layer_from_window

POOLING_LAYERS = {
    "max_pool": keras.layers.MaxPooling2D,
    "average_pool": keras.layers.AveragePooling2D,
}
#: What Keras raises for a model file it cannot load (a bad config, unknown layers, bad weights).
LOAD_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OSError, ImportError, RuntimeError)
GLOBAL_POOLING_LAYERS = (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)
#: Layers that are an activation function, by the name of the function.
ACTIVATION_LAYERS = {
    keras.layers.ReLU: "relu",
    keras.layers.LeakyReLU: "leaky_relu",
    keras.layers.ELU: "elu",
    keras.layers.Softmax: "softmax",
}


def build_cnn(
    architecture: Sequence[Mapping[str, Any]],
    input_shape: Sequence[int],
    l2: float = 0.0,
    dtype_policy: str = "float32",
) -> keras.Sequential:
    """The CNN of ``architecture`` (the config's list of layers), untrained.

    ``l2`` is the L2 penalty on every kernel; ``dtype_policy`` the Keras dtype policy of the
    hidden layers (``mixed_float16`` for mixed precision on a GPU). The output layer always
    computes in float32, where mixed precision is not safe.
    """
    regulariser = keras.regularizers.L2(l2) if l2 > 0 else None
    last = len(architecture) - 1
    layers = [keras.Input(shape=tuple(input_shape), name="image")]
    for position, spec in enumerate(architecture):
        policy = "float32" if position == last else dtype_policy
        layers.append(build_layer(spec, regulariser, policy))
    return keras.Sequential(layers, name="cnn")


def build_layer(
    spec: Mapping[str, Any], regulariser: keras.regularizers.Regularizer | None, policy: str
) -> keras.layers.Layer:
    """One Keras layer from one entry of ``model.architecture``."""
    kind, name = spec["kind"], spec["name"]
    if kind == "conv":
        return keras.layers.Conv2D(
            spec["filters"],
            spec["kernel"],
            activation=spec["activation"],
            kernel_regularizer=regulariser,
            dtype=policy,
            name=name,
        )
    if kind in POOLING_LAYERS:
        return POOLING_LAYERS[kind](spec["size"], dtype=policy, name=name)
    if kind == "flatten":
        return keras.layers.Flatten(dtype=policy, name=name)
    if kind == "dense":
        return keras.layers.Dense(
            spec["units"],
            activation=spec["activation"],
            kernel_regularizer=regulariser,
            dtype=policy,
            name=name,
        )
    raise CnnLensError(f"model.architecture: unknown layer kind {kind!r} of layer {name}")


def as_float32(
    model: keras.Model, architecture: Sequence[Mapping[str, Any]], l2: float = 0.0
) -> keras.Model:
    """A float32 copy of a (possibly mixed-precision) model, to save and reload anywhere."""
    copy = build_cnn(architecture, model.input_shape[1:], l2)
    copy.set_weights(model.get_weights())
    return copy


def load_cnn(path: str | os.PathLike) -> keras.Model:
    """Load a trained ``.keras`` model, with a one-line error for a missing or damaged file
    (every member of the archive is checked against its CRC first)."""
    integrity.check_zip(path)
    with integrity.reading(path, "trained model") as location:
        return keras.models.load_model(location)


def load_user_model(path: str | os.PathLike) -> keras.Model:
    """Load the user's own ``.keras`` model (``model.file``) without compiling it, or a
    one-line error: a file Keras cannot load is damaged or needs code it does not know."""
    try:
        return keras.models.load_model(os.path.expanduser(path), compile=False)
    except LOAD_ERRORS as error:
        lines = str(error).strip().splitlines()
        reason = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
        raise CnnLensError(
            f"model.file {os.fspath(path)}: Keras cannot load it ({reason[:300]}); save the "
            "model again with model.save('name.keras')"
        ) from None


def float32_copy(model: keras.Model) -> keras.Model:
    """``model`` with every layer computing in float32 (a mixed-precision model's copy, with
    the same weights); a float32 model as it is."""
    if all(layer.dtype_policy.name == "float32" for layer in model.layers):
        return model
    config = model.get_config()
    for layer in config["layers"]:
        layer["config"]["dtype"] = "float32"
    copy = type(model).from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def gives_logits(model: keras.Model) -> bool:
    """Whether the model's output layer is linear (logits), not softmax probabilities."""
    return activation_name(chain_layers(model)[-1]) == "linear"


def softmax(logits: np.ndarray) -> np.ndarray:
    """Class probabilities from logits (last axis), computed stably in float64, returned in
    the logits' float type."""
    values = np.asarray(logits, dtype=np.float64)
    exponentials = np.exp(values - values.max(axis=-1, keepdims=True))
    probabilities = exponentials / exponentials.sum(axis=-1, keepdims=True)
    return probabilities.astype(np.asarray(logits).dtype)


def kind_of(layer: keras.layers.Layer) -> str:
    """The layer's kind in a :class:`~cnnlens.network.Network`: conv, pool, flatten (also a
    global pooling, which makes maps one flat vector), dense, or other."""
    if isinstance(layer, keras.layers.Conv2D):
        return "conv"
    if isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        return "pool"
    if isinstance(layer, GLOBAL_POOLING_LAYERS + (keras.layers.Flatten,)):
        return "flatten"
    if isinstance(layer, keras.layers.Dense):
        return "dense"
    return "other"


def activation_name(layer: keras.layers.Layer) -> str | None:
    """The activation ``layer`` applies, by name (``relu`` for a ReLU layer, ``linear`` for a
    conv or dense layer without one), or None for layers that apply none."""
    for layer_type, name in ACTIVATION_LAYERS.items():
        if isinstance(layer, layer_type):
            return name
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) if activation is not None else None


def window_of(layer: keras.layers.Layer) -> Window | None:
    """How a square conv or pooling layer moves over its input (None for other layers); a
    dilated kernel as the window it spans."""
    config = layer.get_config()
    kind = kind_of(layer)
    if kind == "conv":
        kernel, strides = config["kernel_size"], config["strides"]
        dilation = config["dilation_rate"]
    elif kind == "pool":
        kernel, strides = config["pool_size"], config["strides"] or config["pool_size"]
        dilation = (1, 1)
    else:
        return None
    if len(set(kernel)) != 1 or len(set(strides)) != 1 or len(set(dilation)) != 1:
        raise CnnLensError(
            f"layer {layer.name} has a non-square window {tuple(kernel)}; only square "
            "kernels and pools are supported"
        )
    span = (int(kernel[0]) - 1) * int(dilation[0]) + 1
    return Window(span, int(strides[0]), config.get("padding", "valid"))


def chain_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers from input to output, its input layer left out (a functional
    model lists it, a Sequential one does not)."""
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def describe(model: keras.Model) -> Network:
    """The network as data, read from ``model`` itself: shapes, kinds, receptive fields."""
    field: tuple[int, int, int] | None = (1, 1, 0)
    layers = []
    for layer in chain_layers(model):
        input_shape = layer.input.shape[1:]
        described, field = layer_from_window(
            layer.name,
            kind_of(layer),
            layer.output.shape[1:],
            window_of(layer),
            field,
            activation_name(layer),
            int(input_shape[0]) if len(input_shape) == 3 else None,
        )
        layers.append(described)
    return Network(tuple(int(side) for side in model.input_shape[1:]), tuple(layers))


def summary_text(model: keras.Model) -> str:
    """A plain-text layer table of ``model``: name, type, output shape, parameters."""
    layers = chain_layers(model)
    named = max([12, *(len(layer.name) for layer in layers)])
    typed = max([14, *(len(type(layer).__name__) for layer in layers)])
    header = f"{'layer':<{named}} {'type':<{typed}} {'output shape':<16} {'parameters':>10}"
    lines = [f"Model: {model.name}", header, "-" * len(header)]
    for layer in layers:
        shape = "x".join(str(size) for size in layer.output.shape[1:])
        kind = type(layer).__name__
        lines.append(
            f"{layer.name:<{named}} {kind:<{typed}} {shape:<16} {layer.count_params():>10,}"
        )
    lines += ["-" * len(header), f"total parameters: {model.count_params():,}"]
    return "\n".join(lines) + "\n"
