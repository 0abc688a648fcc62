"""The CNN of the study: its architecture, its layer names, and loading it back."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from cnnlens.errors import CnnLensError

if TYPE_CHECKING:
    import keras

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10

#: The layer table of the study: name, output shape (without batch) and parameter count.
#: Later stages address layers by these names.
LAYER_TABLE: tuple[tuple[str, tuple[int, ...], int], ...] = (
    ("Conv2D_1", (26, 26, 32), 320),
    ("Max_Pool_1", (13, 13, 32), 0),
    ("Conv2D_2", (11, 11, 64), 18_496),
    ("Max_Pool_2", (5, 5, 64), 0),
    ("Conv2D_3", (3, 3, 128), 73_856),
    ("flatten", (1152,), 0),
    ("dense", (100,), 115_300),
    ("dense_1", (10,), 1_010),
)
LAYER_NAMES = tuple(name for name, _, _ in LAYER_TABLE)
CONV_LAYERS = ("Conv2D_1", "Conv2D_2", "Conv2D_3")
TOTAL_PARAMETERS = 208_982


def build_cnn(l2: float = 0.0, dtype_policy: str = "float32") -> keras.Sequential:
    """The study's CNN, untrained.

    ``l2`` is the L2 penalty on every kernel; ``dtype_policy`` the Keras dtype policy of the
    hidden layers (``mixed_float16`` for mixed precision on a GPU). The softmax output is
    always computed in float32, where mixed precision is not safe.
    """
    import keras
    from keras import layers

    regulariser = keras.regularizers.L2(l2) if l2 > 0 else None

    def conv(filters: int, name: str) -> layers.Conv2D:
        return layers.Conv2D(
            filters,
            3,
            activation="relu",
            kernel_regularizer=regulariser,
            dtype=dtype_policy,
            name=name,
        )

    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE, name="image"),
            conv(32, "Conv2D_1"),
            layers.MaxPooling2D(2, dtype=dtype_policy, name="Max_Pool_1"),
            conv(64, "Conv2D_2"),
            layers.MaxPooling2D(2, dtype=dtype_policy, name="Max_Pool_2"),
            conv(128, "Conv2D_3"),
            layers.Flatten(dtype=dtype_policy, name="flatten"),
            layers.Dense(
                100,
                activation="relu",
                kernel_regularizer=regulariser,
                dtype=dtype_policy,
                name="dense",
            ),
            layers.Dense(
                NUM_CLASSES,
                activation="softmax",
                kernel_regularizer=regulariser,
                dtype="float32",
                name="dense_1",
            ),
        ],
        name="mnist_cnn",
    )


def as_float32(model: keras.Model, l2: float = 0.0) -> keras.Model:
    """A float32 copy of a (possibly mixed-precision) model, to save and reload anywhere."""
    copy = build_cnn(l2)
    copy.set_weights(model.get_weights())
    return copy


def layer_table(model: keras.Model) -> list[tuple[str, tuple[int, ...], int]]:
    """The model's (name, output shape without batch, parameter count) for every layer."""
    return [
        (layer.name, tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers
    ]


def check_architecture(model: keras.Model) -> None:
    """Raise if the model's layer table differs from the study's."""
    actual = layer_table(model)
    if actual != list(LAYER_TABLE):
        raise CnnLensError(
            f"the model's layers {actual} differ from the study's {list(LAYER_TABLE)}; "
            "retrain it with this version of the workflow"
        )


def load_cnn(path: str | os.PathLike) -> keras.Model:
    """Load a trained model saved by the ``train`` rule, checking its architecture."""
    import keras

    if not Path(path).is_file():
        raise CnnLensError(f"no trained model at {path}; run the train rule first")
    try:
        model = keras.models.load_model(path)
    except (OSError, ValueError) as error:
        raise CnnLensError(
            f"cannot load the model {path} ({error}); delete it and rerun the train rule"
        ) from None
    check_architecture(model)
    return model


def require_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """The layer called ``name``, or an error listing the layer names there are."""
    for layer in model.layers:
        if layer.name == name:
            return layer
    raise CnnLensError(
        f"unknown layer {name!r}; the model's layers are {', '.join(LAYER_NAMES)}"
    )


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
