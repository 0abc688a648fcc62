"""A ``.keras`` file's network, read without TensorFlow, equals the loaded model's description;
damaged files, files that are not models and unsupported graphs give one line."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import keras
import pytest
from cnnlens import keras_file
from cnnlens import model as cnn
from cnnlens.errors import CnnLensError

layers = keras.layers


def study_like_sequential() -> keras.Model:
    """The study's kind of network, Sequential, with a dropout layer."""
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(4, 3, activation="relu", name="first"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Conv2D(6, 3, activation="relu", name="second"),
            layers.Flatten(name="flat"),
            layers.Dropout(0.5, name="drop"),
            layers.Dense(10, activation="softmax", name="classes"),
        ]
    )


def colour_functional() -> keras.Model:
    """Colour 32x32 input, odd names, padding same, strides, dilation, batch normalisation,
    separate activation layers, average and global pooling, logits out."""
    inputs = keras.Input((32, 32, 3), name="picture")
    x = layers.Conv2D(8, 3, padding="same", name="Edge-Finder.1")(inputs)
    x = layers.BatchNormalization(name="norm")(x)
    x = layers.Activation("relu", name="act")(x)
    x = layers.MaxPooling2D(2, name="shrink")(x)
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="strided")(x)
    x = layers.Conv2D(6, 3, dilation_rate=2, name="dilated")(x)
    x = layers.ReLU(name="rectify")(x)
    x = layers.AveragePooling2D(3, strides=2, padding="same", name="blur")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(5, name="logits")(x)
    return keras.Model(inputs, outputs, name="colour")


def rectangular_rescaled() -> keras.Model:
    """A Sequential model on 24x40 grey images that rescales its own input."""
    return keras.Sequential(
        [
            keras.Input((24, 40, 1)),
            layers.Rescaling(1 / 255, name="to_unit"),
            layers.Conv2D(5, 5, strides=2, activation="relu", name="coarse"),
            layers.GlobalMaxPooling2D(name="strongest"),
            layers.Dense(3, activation="softmax", name="out"),
        ]
    )


MODELS: dict[str, Callable[[], keras.Model]] = {
    "sequential": study_like_sequential,
    "functional_colour": colour_functional,
    "rectangular": rectangular_rescaled,
}


def saved(model: keras.Model, directory: Path, name: str = "model") -> Path:
    path = directory / f"{name}.keras"
    model.save(path)
    return path


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_file_reads_as_the_loaded_model_describes_itself(name: str, tmp_path: Path) -> None:
    path = saved(MODELS[name](), tmp_path)
    assert keras_file.read_network(path) == cnn.describe(keras.models.load_model(path))


def test_a_colour_functional_model_is_described_layer_by_layer(tmp_path: Path) -> None:
    network = keras_file.read_network(saved(colour_functional(), tmp_path))
    assert network.input_shape == (32, 32, 3)
    assert network.conv_layers == ("Edge-Finder.1", "strided", "dilated")
    kinds = {layer.name: (layer.kind, layer.activation) for layer in network.layers}
    # the conv layer's ReLU is a layer of its own: the conv layer itself is linear
    assert kinds["Edge-Finder.1"] == ("conv", "linear")
    assert kinds["act"] == ("other", "relu") and kinds["rectify"] == ("other", "relu")
    assert kinds["gap"] == ("flatten", None) and kinds["logits"] == ("dense", "linear")
    strided, dilated = network.layer("strided"), network.layer("dilated")
    assert strided.output_shape == (8, 8, 8)  # 32 -> pool 16 -> stride 2, same: 8
    # 3 + 1 (pool) + 2*2 (strided) = 8; the dilated 3x3 kernel spans 5: + 4*4 = 24
    assert (strided.receptive_field, dilated.receptive_field) == (8, 24)
    assert dilated.output_shape == (4, 4, 6)
    # "same" with stride 2 on 16 rows pads 1 row, after the input (TensorFlow's split): unit 0
    # of "strided" starts where unit 0 of "shrink" does, at row -1 (Edge-Finder.1 pads 1 row)
    assert (network.layer("shrink").offset, strided.offset) == (-1, -1)
    assert network.num_classes == 5


def test_the_study_architecture_reads_as_the_config_describes_it(tmp_path: Path) -> None:
    from cnnlens.network import from_architecture
    from helpers import MNIST_SHAPE, default_architecture, study_cnn

    network = keras_file.read_network(saved(study_cnn(), tmp_path))
    assert network == from_architecture(default_architecture(), MNIST_SHAPE)


# ---- faults: one line each ----


def message(path: Path) -> str:
    with pytest.raises(CnnLensError) as raised:
        keras_file.read_network(path)
    text = str(raised.value)
    assert "\n" not in text and str(path) in text
    return text


def test_a_missing_file(tmp_path: Path) -> None:
    assert "no such file" in message(tmp_path / "absent.keras")


def test_a_file_that_is_no_archive(tmp_path: Path) -> None:
    path = tmp_path / "notes.keras"
    path.write_text("not a model")
    assert "damaged or is not a .keras file" in message(path)


def test_a_truncated_file(tmp_path: Path) -> None:
    path = saved(study_like_sequential(), tmp_path)
    path.write_bytes(path.read_bytes()[:-200])
    assert "damaged" in message(path)


def test_a_member_that_fails_its_checksum(tmp_path: Path) -> None:
    path = saved(study_like_sequential(), tmp_path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        member = archive.getinfo("model.weights.h5")
    middle = member.header_offset + 100 + member.compress_size // 2
    data[middle] ^= 0xFF
    path.write_bytes(bytes(data))
    assert "fails its checksum" in message(path)


def test_a_zip_without_a_config(tmp_path: Path) -> None:
    path = tmp_path / "photos.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photo.txt", "hello")
    assert "is not a Keras model" in message(path)


def test_a_config_that_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "layer.keras"
    layer = keras.saving.serialize_keras_object(layers.Dense(3))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(layer))
        archive.writestr("metadata.json", "{}")
    assert "is not a Keras model: it holds a Dense" in message(path)


def test_a_layer_that_changes_the_shape_unsupported(tmp_path: Path) -> None:
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.ZeroPadding2D(2, name="border"),
            layers.Conv2D(4, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    text = message(saved(model, tmp_path))
    assert "layer border (ZeroPadding2D) is not supported" in text


def test_a_branching_model_is_refused(tmp_path: Path) -> None:
    inputs = keras.Input((16, 16, 1))
    first = layers.Conv2D(4, 3, padding="same", activation="relu", name="a")(inputs)
    second = layers.Conv2D(4, 3, padding="same", activation="relu", name="b")(first)
    joined = layers.Add(name="skip")([first, second])
    outputs = layers.Dense(2, activation="softmax")(layers.Flatten()(joined))
    text = message(saved(keras.Model(inputs, outputs), tmp_path))
    assert "only chains of layers" in text and "skip" in text


def test_a_non_square_kernel_is_refused(tmp_path: Path) -> None:
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(4, (3, 5), activation="relu", name="wide"),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    assert "wide has a non-square window" in message(saved(model, tmp_path))
