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

from cnnlens import integrity
from cnnlens.errors import CnnLensError
from cnnlens.network import Network, Window, layer_from_window

POOLING_LAYERS = {
    "max_pool": keras.layers.MaxPooling2D,
    "average_pool": keras.layers.AveragePooling2D,
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


def kind_of(layer: keras.layers.Layer) -> str:
    """The layer's kind in a :class:`~cnnlens.network.Network`: conv, pool, flatten, dense."""
    if isinstance(layer, keras.layers.Conv2D):
        return "conv"
    if isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        return "pool"
    if isinstance(layer, keras.layers.Flatten):
        return "flatten"
    if isinstance(layer, keras.layers.Dense):
        return "dense"
    return "other"


def window_of(layer: keras.layers.Layer) -> Window | None:
    """How a square conv or pooling layer moves over its input (None for other layers)."""
    config = layer.get_config()
    kind = kind_of(layer)
    if kind == "conv":
        kernel, strides = config["kernel_size"], config["strides"]
    elif kind == "pool":
        kernel, strides = config["pool_size"], config["strides"] or config["pool_size"]
    else:
        return None
    if len(set(kernel)) != 1 or len(set(strides)) != 1:
        raise CnnLensError(
            f"layer {layer.name} has a non-square window {tuple(kernel)}; only square "
            "kernels and pools are supported"
        )
    return Window(int(kernel[0]), int(strides[0]), config.get("padding", "valid"))


def describe(model: keras.Model) -> Network:
    """The network as data, read from ``model`` itself: shapes, kinds, receptive fields."""
    field: tuple[int, int, int] | None = (1, 1, 0)
    layers = []
    for layer in model.layers:
        activation = getattr(layer, "activation", None)
        name = getattr(activation, "__name__", None) if activation is not None else None
        described, field = layer_from_window(
            layer.name, kind_of(layer), layer.output.shape[1:], window_of(layer), field, name
        )
        layers.append(described)
    return Network(tuple(int(side) for side in model.input_shape[1:]), tuple(layers))


def summary_text(model: keras.Model) -> str:
    """A plain-text layer table of ``model``: name, type, output shape, parameters."""
    header = f"{'layer':<12} {'type':<14} {'output shape':<16} {'parameters':>10}"
    lines = [f"Model: {model.name}", header, "-" * len(header)]
    for layer in model.layers:
        shape = "x".join(str(size) for size in layer.output.shape[1:])
        kind = type(layer).__name__
        lines.append(f"{layer.name:<12} {kind:<14} {shape:<16} {layer.count_params():>10,}")
    lines += ["-" * len(header), f"total parameters: {model.count_params():,}"]
    return "\n".join(lines) + "\n"
