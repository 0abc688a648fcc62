"""The CNN's architecture is the study's: layer names, shapes and parameter counts."""

from __future__ import annotations

import keras
import pytest

from cnnlens import model as cnn
from cnnlens.errors import CnnLensError


def test_layer_table_matches_the_study() -> None:
    built = cnn.build_cnn(l2=1e-4)
    assert cnn.layer_table(built) == list(cnn.LAYER_TABLE)
    assert built.count_params() == cnn.TOTAL_PARAMETERS == 208_982
    assert [layer.name for layer in built.layers] == list(cnn.LAYER_NAMES)


def test_check_architecture_refuses_another_model() -> None:
    other = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(name="flatten")])
    with pytest.raises(CnnLensError, match="differ from the study"):
        cnn.check_architecture(other)


def test_saved_model_reloads_with_the_same_table(tmp_path) -> None:
    path = tmp_path / "cnn.keras"
    cnn.build_cnn(l2=1e-4).save(path)
    assert cnn.layer_table(cnn.load_cnn(path)) == list(cnn.LAYER_TABLE)


def test_unknown_layer_names_the_known_ones() -> None:
    with pytest.raises(CnnLensError, match="Conv2D_1, Max_Pool_1"):
        cnn.require_layer(cnn.build_cnn(), "Conv2D_9")


def test_missing_model_file(tmp_path) -> None:
    with pytest.raises(CnnLensError, match="run the train rule"):
        cnn.load_cnn(tmp_path / "none.keras")


def test_summary_lists_every_layer() -> None:
    text = cnn.summary_text(cnn.build_cnn())
    for name in cnn.LAYER_NAMES:
        assert name in text
    assert "208,982" in text


def test_mixed_precision_model_converts_to_float32() -> None:
    import numpy as np

    mixed = cnn.build_cnn(l2=1e-4, dtype_policy="mixed_float16")
    assert mixed.get_layer("Conv2D_1").compute_dtype == "float16"
    assert mixed.get_layer("dense_1").compute_dtype == "float32"
    plain = cnn.as_float32(mixed, l2=1e-4)
    assert {layer.compute_dtype for layer in plain.layers} == {"float32"}
    images = np.random.default_rng(0).standard_normal((4, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(plain(images), mixed(images), atol=2e-2)
    assert cnn.layer_table(plain) == list(cnn.LAYER_TABLE)
