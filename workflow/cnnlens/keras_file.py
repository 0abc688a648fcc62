"""A ``.keras`` file's network read without TensorFlow, so ``plan.start`` can check a dropped-in
model (``model.file``) against the config and the data before any job starts.

A Keras 3 ``.keras`` file is a zip archive of ``config.json`` (the model's layers and how they
connect), ``metadata.json`` and ``model.weights.h5``. :func:`read_network` reads the config
into the same :class:`~cnnlens.network.Network` that :func:`cnnlens.model.describe` gives for
the loaded model. Sequential models and functional chains (each layer feeds the next, one
input, one output) are supported; a branching graph is a one-line error.

Layers become kinds as follows:

* Conv2D: ``conv`` (filters, square kernel, strides, padding, dilation, activation);
* MaxPooling2D, AveragePooling2D: ``pool``;
* Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D: ``flatten`` (maps to one flat vector;
  a global pooling is not a spatial layer, so it gets no activation grid and no OIPs);
* Dense: ``dense``;
* shape-keeping layers (Dropout, BatchNormalization, Activation, ReLU, Rescaling, ...):
  ``other``; an Activation, ReLU, LeakyReLU, ELU or Softmax layer carries its activation.

A conv layer whose ReLU is a separate layer (``Conv2D(..., activation=None)`` followed by
``Activation("relu")`` or ``ReLU()``, possibly with a BatchNormalization between) is described
as the file has it: the conv layer's activation is ``linear`` and the ReLU layer is an
``other`` layer with activation ``relu``. The ascent (:mod:`cnnlens.optvis.preactivation`)
climbs the values just before that ReLU either way.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cnnlens.errors import CnnLensError
from cnnlens.network import Layer, Network, Window, layer_from_window

MODEL_CLASSES = ("Sequential", "Functional", "Model")
CONV_CLASSES = ("Conv2D",)
POOL_CLASSES = ("MaxPooling2D", "AveragePooling2D")
GLOBAL_POOL_CLASSES = ("GlobalAveragePooling2D", "GlobalMaxPooling2D")
#: Layers whose output has the shape of their input (identity at inference or elementwise).
SHAPE_KEEPING_CLASSES = (
    "Dropout",
    "SpatialDropout2D",
    "GaussianDropout",
    "GaussianNoise",
    "AlphaDropout",
    "ActivityRegularization",
    "Identity",
    "BatchNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "Normalization",
    "Rescaling",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "PReLU",
    "Softmax",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "RandomContrast",
    "RandomBrightness",
)
#: The activation a layer of its own applies, by class (Activation layers name theirs).
ACTIVATION_LAYERS = {"ReLU": "relu", "LeakyReLU": "leaky_relu", "ELU": "elu", "Softmax": "softmax"}
SUPPORTED = "conv, pooling, flatten, global pooling, dense and shape-keeping layers"


def read_network(path: str | os.PathLike) -> Network:
    """The network stored in the ``.keras`` file at ``path``, or a one-line error naming the
    file and what is wrong with it."""
    source = f"model.file {os.fspath(path)}"
    config = read_model_config(path)
    layers, input_shape = chain_layers(config, source)
    return describe_layers(layers, input_shape, source)


def check_description(loaded: Network, path: str | os.PathLike) -> None:
    """The loaded model's description must be the one read from its file (which planned the
    jobs); a difference would mean the file changed or a layer is read wrongly."""
    read = read_network(path)
    if loaded != read:
        differing = [
            f"{ours.name}" for ours, theirs in zip(read.layers, loaded.layers) if ours != theirs
        ]
        raise CnnLensError(
            f"model.file {os.fspath(path)}: the loaded model differs from its config.json "
            f"(input {loaded.input_shape} vs {read.input_shape}; layers "
            f"{', '.join(differing) or 'count'}); report this with the file"
        )


def sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of the file at ``path``, in hex."""
    digest = hashlib.sha256()
    with open(os.path.expanduser(path), "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---- the archive ----


def read_model_config(path: str | os.PathLike) -> dict[str, Any]:
    """The model's ``config.json`` from the archive, checked to be a Keras model's."""
    location = Path(path).expanduser()
    source = f"model.file {os.fspath(path)}"
    if not location.is_file():
        raise CnnLensError(f"{source}: no such file; give the path of a Keras 3 .keras model")
    if not zipfile.is_zipfile(location):
        hint = " (an HDF5 .h5 model: load it and save it as .keras)" if is_hdf5(location) else ""
        raise CnnLensError(
            f"{source} is damaged or is not a .keras file (not a complete zip archive){hint}; "
            "save the model again with model.save('name.keras')"
        )
    try:
        with zipfile.ZipFile(location) as archive:
            broken = archive.testzip()
            members = set(archive.namelist())
            text = archive.read("config.json") if "config.json" in members else None
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise CnnLensError(f"{source} is damaged ({type(error).__name__}); save it again") from None
    if broken is not None:
        raise CnnLensError(
            f"{source} is damaged: member {broken} fails its checksum; save it again"
        )
    if text is None:
        raise CnnLensError(
            f"{source} is not a Keras model: the archive holds no config.json (a .keras file "
            "holds config.json, metadata.json and model.weights.h5)"
        )
    config = parse_config(text, source)
    if "model.weights.h5" not in members:
        raise CnnLensError(f"{source} holds no weights (model.weights.h5); save the model again")
    return config


def is_hdf5(path: Path) -> bool:
    """Whether ``path`` starts with the HDF5 signature (Keras 2's ``.h5`` models)."""
    with open(path, "rb") as stream:
        return stream.read(8) == b"\x89HDF\r\n\x1a\n"


def parse_config(text: bytes, source: str) -> dict[str, Any]:
    """The parsed ``config.json``; it must describe a Sequential or functional model."""
    try:
        config = json.loads(text)
    except ValueError:
        raise CnnLensError(
            f"{source} is damaged: its config.json is not JSON; save it again"
        ) from None
    kind = config.get("class_name") if isinstance(config, dict) else None
    inner = config.get("config") if isinstance(config, dict) else None
    if kind not in MODEL_CLASSES or not isinstance(inner, dict) or "layers" not in inner:
        raise CnnLensError(
            f"{source} is not a Keras model: it holds a {kind or 'something else'}; save a "
            "Sequential or functional model with model.save('name.keras')"
        )
    return config


# ---- the layers as a chain ----


def chain_layers(
    config: Mapping[str, Any], source: str
) -> tuple[list[Mapping[str, Any]], tuple[int, int, int]]:
    """The model's layers from input to output (input layer left out) and its input shape."""
    inner = config["config"]
    layers = list(inner["layers"])
    if config["class_name"] != "Sequential":
        layers = functional_chain(inner, source)
    inputs = [layer for layer in layers if layer["class_name"] == "InputLayer"]
    others = [layer for layer in layers if layer["class_name"] != "InputLayer"]
    if not others:
        raise CnnLensError(f"{source} has no layers")
    return others, input_shape(config, inputs, others[0], source)


def input_shape(
    config: Mapping[str, Any],
    inputs: Sequence[Mapping[str, Any]],
    first: Mapping[str, Any],
    source: str,
) -> tuple[int, int, int]:
    """(H, W, C) of the model's input: from its input layer, or the shape it was built for."""
    candidates = [
        *(layer["config"].get("batch_shape") or layer["config"].get("batch_input_shape")
          for layer in inputs),
        config["config"].get("build_input_shape"),
        (first.get("build_config") or {}).get("input_shape"),
        (config.get("build_config") or {}).get("input_shape"),
    ]
    shape = next((candidate for candidate in candidates if candidate), None)
    if shape is None or len(shape) != 4 or any(side is None for side in shape[1:]):
        raise CnnLensError(
            f"{source} takes inputs of shape {shape}; cnnlens needs images of a fixed size, "
            "(height, width, channels)"
        )
    return tuple(int(side) for side in shape[1:])  # type: ignore[return-value]


def functional_chain(inner: Mapping[str, Any], source: str) -> list[Mapping[str, Any]]:
    """A functional model's layers in order from its input to its output, if they form a
    chain; otherwise a one-line error saying where the graph branches."""
    layers = {layer["name"]: layer for layer in inner["layers"]}
    ends = [tensor_names(inner.get(key)) for key in ("input_layers", "output_layers")]
    if len(ends[0]) != 1 or len(ends[1]) != 1:
        raise CnnLensError(
            f"{source} has {len(ends[0])} inputs and {len(ends[1])} outputs; cnnlens reads "
            "models with one image input and one class output"
        )
    following: dict[str, list[str]] = {name: [] for name in layers}
    for name, layer in layers.items():
        nodes = layer.get("inbound_nodes") or []
        sources = [parent for node in nodes for parent in tensor_names(node)]
        if len(nodes) > 1 or len(sources) > 1:
            raise CnnLensError(
                f"{source}: layer {name} ({layer['class_name']}) takes {len(sources)} inputs; "
                "cnnlens reads only chains of layers, each feeding the next (no branches)"
            )
        for parent in sources:
            following[parent].append(name)
    chain, current = [], ends[0][0]
    while True:
        chain.append(layers[current])
        if len(following[current]) > 1:
            raise CnnLensError(
                f"{source}: layer {current} feeds {len(following[current])} layers "
                f"({', '.join(following[current])}); cnnlens reads only chains of layers, "
                "each feeding the next (no branches)"
            )
        if not following[current]:
            break
        current = following[current][0]
    if current != ends[1][0] or len(chain) != len(layers):
        raise CnnLensError(
            f"{source}: its layers do not form one chain from input to output; cnnlens reads "
            "only chains of layers, each feeding the next (no branches)"
        )
    return chain


def tensor_names(value: Any) -> list[str]:
    """The layer names of the Keras tensors referenced anywhere in ``value`` (an inbound node
    or a model's input/output list): ``keras_history`` entries, or legacy ``[name, i, j]``."""
    return [name for name in _walk_tensors(value)]


def _walk_tensors(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        history = (value.get("config") or {}).get("keras_history")
        if value.get("class_name") == "__keras_tensor__" and history:
            yield str(history[0])
            return
        for item in value.values():
            yield from _walk_tensors(item)
    elif isinstance(value, list):
        if len(value) >= 3 and isinstance(value[0], str) and isinstance(value[1], int):
            yield value[0]
            return
        for item in value:
            yield from _walk_tensors(item)


# ---- shapes, kinds and receptive fields ----


def describe_layers(
    layers: Sequence[Mapping[str, Any]], image_shape: tuple[int, int, int], source: str
) -> Network:
    """The :class:`Network` of a chain of layer configs on inputs of ``image_shape``."""
    shape: tuple[int, ...] = image_shape
    field: tuple[int, int, int] | None = (1, 1, 0)
    described: list[Layer] = []
    for layer in layers:
        kind, window, output = layer_shape(layer, shape, source)
        if min(output) < 1:
            raise CnnLensError(
                f"{source}: layer {layer_name(layer)} would have output shape {output} for "
                f"{'x'.join(map(str, image_shape))} inputs"
            )
        entry, field = layer_from_window(
            layer_name(layer), kind, output, window, field, activation_of(layer),
            shape[0] if len(shape) == 3 else None,
        )
        described.append(entry)
        shape = output
    return Network(image_shape, tuple(described))


def layer_name(layer: Mapping[str, Any]) -> str:
    return str(layer.get("name") or layer["config"]["name"])


def layer_shape(
    layer: Mapping[str, Any], shape: tuple[int, ...], source: str
) -> tuple[str, Window | None, tuple[int, ...]]:
    """(kind, window, output shape) of one layer on inputs of ``shape`` (no batch axis)."""
    kind, config = layer["class_name"], layer["config"]
    if kind in CONV_CLASSES + POOL_CLASSES:
        require_spatial(layer, shape, source)
        window = conv_window(layer, source) if kind in CONV_CLASSES else pool_window(layer, source)
        maps = int(config["filters"]) if kind in CONV_CLASSES else shape[2]
        output = (window.output_size(shape[0]), window.output_size(shape[1]), maps)
        return ("conv" if kind in CONV_CLASSES else "pool"), window, output
    if kind in GLOBAL_POOL_CLASSES:
        require_spatial(layer, shape, source)
        if config.get("keepdims"):
            raise unsupported(layer, source, "keepdims=True")
        return "flatten", None, (shape[2],)
    if kind == "Flatten":
        return "flatten", None, (math.prod(shape),)
    if kind == "Dense":
        return "dense", None, (*shape[:-1], int(config["units"]))
    if kind in SHAPE_KEEPING_CLASSES:
        return "other", None, shape
    raise unsupported(layer, source)


def require_spatial(layer: Mapping[str, Any], shape: tuple[int, ...], source: str) -> None:
    """Conv and pooling layers need (H, W, C) inputs in channels-last order."""
    if len(shape) != 3:
        raise unsupported(layer, source, f"on inputs of shape {shape}")
    if layer["config"].get("data_format", "channels_last") != "channels_last":
        raise unsupported(layer, source, "data_format channels_first")


def unsupported(layer: Mapping[str, Any], source: str, detail: str = "") -> CnnLensError:
    what = f"{layer['class_name']}{', ' + detail if detail else ''}"
    return CnnLensError(
        f"{source}: layer {layer_name(layer)} ({what}) is not supported; cnnlens reads {SUPPORTED}"
    )


def conv_window(layer: Mapping[str, Any], source: str) -> Window:
    """A conv layer's window: its dilated kernel side, stride and padding."""
    config = layer["config"]
    kernel = square(layer, config["kernel_size"], source)
    dilation = square(layer, config.get("dilation_rate", 1), source)
    stride = square(layer, config.get("strides", 1), source)
    return Window((kernel - 1) * dilation + 1, stride, config.get("padding", "valid"))


def pool_window(layer: Mapping[str, Any], source: str) -> Window:
    """A pooling layer's window (strides default to the pool size)."""
    config = layer["config"]
    size = square(layer, config["pool_size"], source)
    stride = square(layer, config.get("strides") or config["pool_size"], source)
    return Window(size, stride, config.get("padding", "valid"))


def square(layer: Mapping[str, Any], sides: int | Sequence[int], source: str) -> int:
    """The side of a square window setting (an int or equal pair), else a one-line error."""
    values = [int(sides)] if isinstance(sides, int) else [int(side) for side in sides]
    if len(set(values)) != 1:
        raise CnnLensError(
            f"{source}: layer {layer_name(layer)} has a non-square window {tuple(values)}; only "
            "square kernels, strides and pools are supported"
        )
    return values[0]


def activation_of(layer: Mapping[str, Any]) -> str | None:
    """The activation a layer applies, by name, as :func:`cnnlens.model.activation_name`
    gives it for the loaded layer."""
    kind, config = layer["class_name"], layer["config"]
    if kind in ACTIVATION_LAYERS:
        return ACTIVATION_LAYERS[kind]
    if "activation" not in config:
        return None
    activation = config["activation"]
    if isinstance(activation, dict):
        activation = activation.get("config")
        if isinstance(activation, dict):
            activation = activation.get("name")
    return "linear" if activation is None else str(activation)
