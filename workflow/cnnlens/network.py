"""The network as data: its input, its layers' names, kinds, shapes and receptive fields.

A :class:`Network` is what every stage knows of the CNN it looks into. It is read from the
trained model (:func:`cnnlens.model.describe`, saved as ``results/model/network.json``) or,
before a model exists, inferred from the ``model.architecture`` list of the config
(:func:`from_architecture`); both give the same description. No TensorFlow here: the rule
files plan their jobs from it.

Receptive fields: a unit (i, j) of a spatial layer sees the input rows
``offset + i * stride`` to ``offset + i * stride + size - 1`` (and the same for columns).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from cnnlens.errors import CnnLensError

SPATIAL_KINDS = ("conv", "pool")
KINDS = ("conv", "pool", "flatten", "dense", "other")


@dataclasses.dataclass(frozen=True)
class Layer:
    """One layer: its name, kind, output shape (no batch axis) and receptive field."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    activation: str | None = None
    receptive_field: int | None = None  # input pixels per side one unit sees
    stride: int | None = None  # input pixels between neighbouring units
    offset: int | None = None  # input row (and column) of unit 0's window

    @property
    def maps(self) -> int:
        """Maps (channels) of a spatial layer, units of a flat one."""
        return int(self.output_shape[-1])

    @property
    def spatial(self) -> bool:
        return len(self.output_shape) == 3

    def window(self, row: int, column: int) -> tuple[slice, slice]:
        """The input rows and columns unit (row, column) sees (clipped at the border)."""
        if self.receptive_field is None:
            raise CnnLensError(f"layer {self.name} has no receptive field on the input")
        top = self.offset + row * self.stride
        left = self.offset + column * self.stride
        return (
            slice(max(top, 0), top + self.receptive_field),
            slice(max(left, 0), left + self.receptive_field),
        )


@dataclasses.dataclass(frozen=True)
class Network:
    """The input shape (H, W, C) and the layers, input to output."""

    input_shape: tuple[int, int, int]
    layers: tuple[Layer, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(layer.name for layer in self.layers)

    @property
    def conv_layers(self) -> tuple[str, ...]:
        return tuple(layer.name for layer in self.layers if layer.kind == "conv")

    @property
    def dense_layers(self) -> tuple[str, ...]:
        return tuple(layer.name for layer in self.layers if layer.kind == "dense")

    @property
    def num_classes(self) -> int:
        return self.layers[-1].maps

    def layer(self, name: str, setting: str = "the config") -> Layer:
        """The layer called ``name``, or a one-line error listing the layers there are."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise CnnLensError(
            f"{setting} names layer {name!r}, which the model lacks; its layers are "
            f"{', '.join(self.names)}"
        )

    def maps(self, name: str) -> int:
        """Maps (or units) of layer ``name``."""
        return self.layer(name).maps

    def require_conv(self, name: str, setting: str = "the config") -> Layer:
        """The conv layer ``name``, or an error naming the conv layers there are."""
        return self.require_kind(name, "conv", setting)

    def require_dense(self, name: str, setting: str = "the config") -> Layer:
        """The dense layer ``name``, or an error naming the dense layers there are."""
        return self.require_kind(name, "dense", setting)

    def require_kind(self, name: str, kind: str, setting: str = "the config") -> Layer:
        """The layer ``name`` of ``kind``, or an error naming the layers of that kind."""
        layer = self.layer(name, setting)
        if layer.kind != kind:
            others = ", ".join(other.name for other in self.layers if other.kind == kind)
            raise CnnLensError(
                f"{setting} names {name!r}, a layer of kind {layer.kind}; it needs a {kind} "
                f"layer: {others}"
            )
        return layer

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Network:
        record = json.loads(text)
        return cls(
            input_shape=tuple(record["input_shape"]),
            layers=tuple(
                Layer(**{**layer, "output_shape": tuple(layer["output_shape"])})
                for layer in record["layers"]
            ),
        )

    def receptive_field_table(self) -> str:
        """A plain-text table: every spatial layer's receptive field on the input."""
        lines = [f"{'layer':<14} {'maps':>5} {'unit sees':>10} {'stride':>7}"]
        for layer in self.layers:
            if layer.spatial and layer.receptive_field is not None:
                size = f"{layer.receptive_field}x{layer.receptive_field}"
                lines.append(f"{layer.name:<14} {layer.maps:>5} {size:>10} {layer.stride:>7}")
        return "\n".join(lines) + "\n"


@dataclasses.dataclass(frozen=True)
class Window:
    """How a conv or pooling layer moves over its input: kernel side, stride, padding."""

    kernel: int
    stride: int
    padding: str

    def output_size(self, size: int) -> int:
        if self.padding == "same":
            return -(-size // self.stride)
        return (size - self.kernel) // self.stride + 1

    def leading_padding(self, size: int | None = None) -> int:
        """Rows (or columns) of zeros "same" padding puts before an input of ``size``: half of
        all the padding, rounded down, as TensorFlow splits it ((kernel - 1) // 2 for stride 1,
        and when ``size`` is not known)."""
        if self.padding != "same":
            return 0
        if size is None:
            return (self.kernel - 1) // 2
        return max((self.output_size(size) - 1) * self.stride + self.kernel - size, 0) // 2

    def receptive(
        self, field: tuple[int, int, int], input_size: int | None = None
    ) -> tuple[int, int, int]:
        """(size, stride, offset) of the next layer from the previous layer's (whose outputs,
        this layer's input, are ``input_size`` rows high)."""
        size, stride, offset = field
        pad = self.leading_padding(input_size)
        return size + (self.kernel - 1) * stride, stride * self.stride, offset - pad * stride


def layer_from_window(
    name: str,
    kind: str,
    output_shape: Sequence[int],
    window: Window | None,
    field: tuple[int, int, int] | None,
    activation: str | None = None,
    input_size: int | None = None,
) -> tuple[Layer, tuple[int, int, int] | None]:
    """A :class:`Layer` and the receptive field its successors build on (``input_size``: the
    rows of the layer's input, which "same" padding with strides needs)."""
    if field is not None and window is not None:
        field = window.receptive(field, input_size)
    if len(output_shape) != 3:
        field = None
    size, stride, offset = field if field is not None else (None, None, None)
    layer = Layer(name, kind, tuple(int(s) for s in output_shape), activation, size, stride, offset)
    return layer, field


def from_architecture(
    architecture: Sequence[Mapping[str, Any]], input_shape: Sequence[int]
) -> Network:
    """The network the ``model.architecture`` list builds, for inputs of ``input_shape``."""
    height, width, channels = (int(side) for side in input_shape)
    shape: tuple[int, ...] = (height, width, channels)
    field: tuple[int, int, int] | None = (1, 1, 0)
    layers = []
    for spec in architecture:
        kind, window = spec["kind"], None
        if kind == "conv":
            window = Window(spec["kernel"], 1, spec.get("padding", "valid"))
            shape = (window.output_size(shape[0]), window.output_size(shape[1]), spec["filters"])
        elif kind in ("max_pool", "average_pool"):
            window = Window(spec["size"], spec["size"], "valid")
            shape = (window.output_size(shape[0]), window.output_size(shape[1]), shape[2])
        elif kind == "flatten":
            shape = (shape[0] * shape[1] * shape[2],)
        elif kind == "dense":
            shape = (spec["units"],)
        if min(shape) < 1:
            raise CnnLensError(
                f"model.architecture: layer {spec['name']} would have output shape {shape} for "
                f"{height}x{width} inputs; use fewer or smaller layers"
            )
        general = "pool" if kind.endswith("_pool") else kind
        layer, field = layer_from_window(
            spec["name"], general, shape, window, field, spec.get("activation")
        )
        layers.append(layer)
    return Network((height, width, channels), tuple(layers))
