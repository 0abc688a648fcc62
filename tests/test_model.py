"""The CNN: the default architecture is the study's, and a model describes itself as data."""

from __future__ import annotations

import numpy as np
import pytest
from cnnlens import model as cnn
from cnnlens.errors import CnnLensError
from cnnlens.network import Network, from_architecture
from helpers import MNIST_SHAPE, default_architecture, study_cnn

#: The layer table of the study: name, output shape (without batch) and parameter count.
STUDY_LAYER_TABLE = [
    ("Conv2D_1", (26, 26, 32), 320),
    ("Max_Pool_1", (13, 13, 32), 0),
    ("Conv2D_2", (11, 11, 64), 18_496),
    ("Max_Pool_2", (5, 5, 64), 0),
    ("Conv2D_3", (3, 3, 128), 73_856),
    ("flatten", (1152,), 0),
    ("dense", (100,), 115_300),
    ("dense_1", (10,), 1_010),
]


def layer_table(model) -> list[tuple[str, tuple[int, ...], int]]:
    return [
        (layer.name, tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers
    ]


def test_default_architecture_is_the_study_cnn() -> None:
    built = study_cnn(l2=1e-4)
    assert layer_table(built) == STUDY_LAYER_TABLE
    assert built.count_params() == 208_982


def test_description_from_the_model_equals_the_one_from_the_config() -> None:
    described = cnn.describe(study_cnn())
    assert described == from_architecture(default_architecture(), MNIST_SHAPE)
    assert described.conv_layers == ("Conv2D_1", "Conv2D_2", "Conv2D_3")
    assert [layer.output_shape for layer in described.layers] == [
        shape for _, shape, _ in STUDY_LAYER_TABLE
    ]
    assert described.num_classes == 10


def test_receptive_fields_of_the_study_cnn() -> None:
    described = cnn.describe(study_cnn())
    fields = {layer.name: layer.receptive_field for layer in described.layers if layer.spatial}
    assert fields == {
        "Conv2D_1": 3, "Max_Pool_1": 4, "Conv2D_2": 8, "Max_Pool_2": 10, "Conv2D_3": 18
    }
    # a node of Conv2D_3 covers 18x18 pixels, its neighbour starts 4 pixels further on
    rows, columns = described.layer("Conv2D_3").window(2, 1)
    assert (rows.start, rows.stop, columns.start, columns.stop) == (8, 26, 4, 22)
    assert "18x18" in described.receptive_field_table()


def test_description_round_trips_through_json() -> None:
    described = cnn.describe(study_cnn())
    assert Network.from_json(described.to_json()) == described


def test_another_architecture_is_read_from_the_model() -> None:
    architecture = [
        {"kind": "conv", "name": "edges", "filters": 4, "kernel": 5, "activation": "relu"},
        {"kind": "average_pool", "name": "pool", "size": 3},
        {"kind": "conv", "name": "parts", "filters": 6, "kernel": 3, "activation": "relu"},
        {"kind": "flatten", "name": "flat"},
        {"kind": "dense", "name": "classes", "units": 3, "activation": "softmax"},
    ]
    built = cnn.build_cnn(architecture, (32, 30, 3))
    described = cnn.describe(built)
    assert described == from_architecture(architecture, (32, 30, 3))
    assert described.layer("parts").output_shape == (7, 6, 6)
    assert described.layer("parts").receptive_field == (5 + 2) + 2 * 3  # pool of 3 strides 3


def test_unknown_layer_names_the_known_ones() -> None:
    with pytest.raises(CnnLensError, match="Conv2D_1, Max_Pool_1"):
        cnn.describe(study_cnn()).layer("Conv2D_9")


def test_saved_model_reloads_with_the_same_description(tmp_path) -> None:
    path = tmp_path / "cnn.keras"
    built = study_cnn(l2=1e-4)
    built.save(path)
    assert cnn.describe(cnn.load_cnn(path)) == cnn.describe(built)


def test_missing_or_damaged_model_file(tmp_path) -> None:
    with pytest.raises(CnnLensError, match="none.keras; make it with 'snakemake --forcerun"):
        cnn.load_cnn(tmp_path / "none.keras")
    damaged = tmp_path / "damaged.keras"
    damaged.write_bytes(b"not a zip file")
    with pytest.raises(CnnLensError, match="damaged"):
        cnn.load_cnn(damaged)


def test_summary_lists_every_layer() -> None:
    text = cnn.summary_text(study_cnn())
    for name, _, _ in STUDY_LAYER_TABLE:
        assert name in text
    assert "208,982" in text


def test_mixed_precision_model_converts_to_float32() -> None:
    mixed = study_cnn(l2=1e-4, dtype_policy="mixed_float16")
    assert mixed.get_layer("Conv2D_1").compute_dtype == "float16"
    assert mixed.get_layer("dense_1").compute_dtype == "float32"
    plain = cnn.as_float32(mixed, default_architecture(), l2=1e-4)
    assert {layer.compute_dtype for layer in plain.layers} == {"float32"}
    images = np.random.default_rng(0).standard_normal((4, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(plain(images), mixed(images), atol=2e-2)
    assert layer_table(plain) == STUDY_LAYER_TABLE


# ---- a model of the user's own (model.file) ----


def test_a_functional_models_input_layer_is_not_a_layer_of_the_network() -> None:
    import keras

    inputs = keras.Input((20, 20, 3), name="picture")
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.ReLU(name="rectify")(x)
    outputs = keras.layers.Dense(2)(keras.layers.GlobalMaxPooling2D(name="strongest")(x))
    described = cnn.describe(keras.Model(inputs, outputs))
    assert described.input_shape == (20, 20, 3)
    assert described.names[:3] == ("conv", "rectify", "strongest")
    assert [layer.kind for layer in described.layers] == ["conv", "other", "flatten", "dense"]
    assert described.layer("rectify").activation == "relu"
    assert "picture" not in cnn.summary_text(keras.Model(inputs, outputs))


def test_a_mixed_precision_user_model_is_copied_as_float32() -> None:
    mixed = study_cnn(dtype_policy="mixed_float16")
    plain = cnn.float32_copy(mixed)
    assert {layer.compute_dtype for layer in plain.layers} == {"float32"}
    images = np.random.default_rng(1).standard_normal((3, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(plain(images), mixed(images), atol=2e-2)
    already = study_cnn()
    assert cnn.float32_copy(already) is already


def test_a_user_model_keras_cannot_load_is_one_line(tmp_path) -> None:
    import zipfile

    path = tmp_path / "broken.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", '{"class_name": "Sequential", "config": {"layers": 3}}')
    with pytest.raises(CnnLensError, match="broken.keras: Keras cannot load it") as raised:
        cnn.load_user_model(path)
    assert "\n" not in str(raised.value)


def test_logits_are_told_from_probabilities() -> None:
    import keras

    assert not cnn.gives_logits(study_cnn())
    logits = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="out")])
    assert cnn.gives_logits(logits)
