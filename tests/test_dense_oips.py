"""The ascent engine on dense layers: a dense unit's pre-activation is its value before the
ReLU, the last layer's is the class logit, and an ascent raises either (no training needed)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import study_cnn

from cnnlens.errors import CnnLensError
from cnnlens.optvis import objectives
from cnnlens.optvis.engine import AscentEngine
from cnnlens.optvis.preactivation import preactivation_model
from cnnlens.optvis.render import render


@pytest.fixture(scope="module")
def cnn():
    import keras

    keras.utils.set_random_seed(3)
    return study_cnn()


def noise(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, 28, 28, 1)).astype(np.float32)


def test_dense_pre_activations_are_the_values_before_relu_and_softmax(cnn) -> None:
    import keras

    images = noise(6)
    dense, logits = preactivation_model(cnn, ["dense", "dense_1"])(images)
    assert dense.shape == (6, 1, 1, 100) and logits.shape == (6, 1, 1, 10)
    hidden = keras.Model(cnn.inputs, cnn.get_layer("dense").output)(images).numpy()
    np.testing.assert_allclose(np.maximum(dense.numpy()[:, 0, 0], 0), hidden, atol=1e-5)
    kernel, bias = cnn.get_layer("dense_1").get_weights()
    expected = hidden @ kernel + bias
    np.testing.assert_allclose(logits.numpy()[:, 0, 0], expected, atol=1e-5)
    probabilities = cnn(images).numpy()
    np.testing.assert_allclose(
        np.exp(expected) / np.exp(expected).sum(axis=1, keepdims=True), probabilities, atol=1e-5
    )


def test_an_ascent_raises_each_class_logit_from_below_zero(cnn) -> None:
    engine = AscentEngine(cnn, ["dense_1"], revival="max")
    objective = objectives.units("dense_1", range(10)).revived()
    result = render(engine, noise(10, seed=4), objective, 60, 0.02)
    logits = preactivation_model(cnn, ["dense_1"])(result.images).numpy()[:, 0, 0]
    start = preactivation_model(cnn, ["dense_1"])(noise(10, seed=4)).numpy()[:, 0, 0]
    chosen = np.arange(10)
    assert (logits[chosen, chosen] > start[chosen, chosen]).all()
    assert (result.objective > 0).sum() >= 8


def test_a_dense_target_needs_the_models_input_size(cnn) -> None:
    with pytest.raises(CnnLensError, match="input size"):
        preactivation_model(cnn, ["dense"], input_shape=(None, None, 1))
    with pytest.raises(CnnLensError, match="flatten|Flatten|not a conv"):
        preactivation_model(cnn, ["flatten"])
