"""The pre-activation copy of any chain-shaped model (functional, colour, strides, padding,
batch normalisation, separate activation layers, dropout, global pooling) gives exactly the
original model's values before each target's ReLU, and its fast input gradient is exact for
colour images."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from cnnlens.errors import CnnLensError
from cnnlens.optvis.engine import AscentEngine
from cnnlens.optvis.preactivation import preactivation_model

layers = keras.layers
TARGETS = ("first", "strided", "separate", "hidden", "logits")


@pytest.fixture(scope="module")
def chain_model() -> keras.Model:
    """A functional colour chain with every kind of layer the copy must handle, with batch
    normalisation statistics that are not the identity."""
    keras.utils.set_random_seed(5)
    inputs = keras.Input((30, 30, 3), name="picture")
    x = layers.Rescaling(2.0, offset=-1.0, name="centre")(inputs)
    x = layers.Conv2D(6, 3, name="first")(x)  # ReLU after batch normalisation, own layers
    x = layers.BatchNormalization(name="norm")(x)
    x = layers.Activation("relu", name="first_relu")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="strided")(x)
    x = layers.SpatialDropout2D(0.2, name="spatial_drop")(x)
    x = layers.Conv2D(8, 3, padding="same", name="separate")(x)
    x = layers.ReLU(name="separate_relu")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.5, name="drop")(x)
    x = layers.Dense(12, activation="relu", name="hidden")(x)
    outputs = layers.Dense(4, name="logits")(x)
    model = keras.Model(inputs, outputs, name="chain")
    norm = model.get_layer("norm")
    rng = np.random.default_rng(1)
    norm.set_weights(
        [
            rng.uniform(0.5, 2.0, 6).astype(np.float32),  # gamma
            rng.normal(0, 0.5, 6).astype(np.float32),  # beta
            rng.normal(0, 0.3, 6).astype(np.float32),  # moving mean
            rng.uniform(0.5, 2.0, 6).astype(np.float32),  # moving variance
        ]
    )
    return model


def images(count: int, seed: int = 0, size: int = 30) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (count, size, size, 3)).astype(np.float32)


def before_relu(model: keras.Model, batch: np.ndarray) -> dict[str, np.ndarray]:
    """Each target's value before its ReLU, from the original model: the input of the
    separate ReLU layer, or the conv or dense output recomputed without its activation."""
    strided = model.get_layer("strided")
    hidden = model.get_layer("hidden")
    probe = keras.Model(
        model.inputs,
        [
            model.get_layer("first_relu").input,
            strided.input,
            model.get_layer("separate_relu").input,
            hidden.input,
            model.get_layer("logits").output,
        ],
    )
    first, strided_in, separate, hidden_in, logits = (
        np.asarray(value) for value in probe(batch, training=False)
    )
    strided_pre = tf.nn.conv2d(strided_in, strided.kernel, 2, "SAME") + strided.bias
    hidden_pre = hidden_in @ np.asarray(hidden.kernel) + np.asarray(hidden.bias)
    return {
        "first": first,
        "strided": np.asarray(strided_pre),
        "separate": separate,
        "hidden": hidden_pre[:, None, None, :],
        "logits": logits[:, None, None, :],
    }


def test_the_copy_gives_the_values_before_each_relu(chain_model) -> None:
    batch = images(5)
    copied = preactivation_model(chain_model, TARGETS)(batch)
    expected = before_relu(chain_model, batch)
    for name, values in zip(TARGETS, copied, strict=True):
        np.testing.assert_allclose(np.asarray(values), expected[name], rtol=1e-5, atol=1e-5)
        if name != "logits":
            assert (np.asarray(values) < 0).any(), name  # before the ReLU: negatives too


def test_the_objectives_relu_is_the_models_own_activation(chain_model) -> None:
    batch = images(3, seed=2)
    first = preactivation_model(chain_model, ["first"])(batch)
    activated = keras.Model(chain_model.inputs, chain_model.get_layer("first_relu").output)
    np.testing.assert_allclose(
        np.maximum(np.asarray(first), 0),
        np.asarray(activated(batch, training=False)),
        rtol=1e-5,
        atol=1e-5,
    )


def test_the_conv_part_takes_colour_images_of_any_size(chain_model) -> None:
    dreamer = AscentEngine(chain_model, ["first", "separate"], input_shape=(None, None, 3))
    larger = images(1, seed=3, size=52)
    first, separate = dreamer.model(larger)
    # 50, pool 25, stride 2: 13
    assert first.shape == (1, 50, 50, 6) and separate.shape[1:] == (13, 13, 8)


def test_the_fast_input_gradient_is_exact_for_colour(chain_model) -> None:
    """The first conv layer sees the image (after a rescaling layer in chain_model): here a
    model whose first layer is the conv, so the fast gradient applies, against TensorFlow's."""
    keras.utils.set_random_seed(4)
    model = keras.Sequential(
        [
            keras.Input((12, 12, 3)),
            layers.Conv2D(5, 3, activation="relu", name="conv"),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    copy = preactivation_model(model, ["conv"])
    assert type(copy.get_layer("conv")).__name__ == "ImageConv2D"
    batch = tf.constant(images(2, seed=5, size=12))
    weights = tf.constant(np.random.default_rng(6).normal(size=(2, 10, 10, 5)), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(batch)
        fast = tf.reduce_sum(copy(batch) * weights)
        conv = model.get_layer("conv")
        plain = tf.reduce_sum((tf.nn.conv2d(batch, conv.kernel, 1, "VALID") + conv.bias) * weights)
    np.testing.assert_allclose(fast.numpy(), plain.numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        tape.gradient(fast, batch).numpy(), tape.gradient(plain, batch).numpy(), atol=1e-5
    )


def test_a_linear_conv_without_a_relu_is_refused(chain_model) -> None:
    inputs = keras.Input((16, 16, 1))
    x = layers.Conv2D(4, 3, name="plain")(inputs)
    outputs = layers.Dense(2, activation="softmax")(layers.Flatten()(x))
    with pytest.raises(CnnLensError, match="no ReLU layer follows"):
        preactivation_model(keras.Model(inputs, outputs), ["plain"])


@pytest.mark.parametrize("compute_dtype", ["float32", "bfloat16"])
def test_the_fast_input_gradient_crops_what_no_target_sees(compute_dtype) -> None:
    """13 pixels, a conv of 3 and a flooring pool of 2: the second conv never sees the last row
    and column; the first conv crops them itself, and the gradient is the original model's
    (to bfloat16's precision in bfloat16), zero on the cropped pixels."""
    keras.utils.set_random_seed(7)
    model = keras.Sequential(
        [
            keras.Input((13, 13, 3)),
            layers.Conv2D(5, 3, activation="relu", name="conv"),
            layers.MaxPooling2D(2),
            layers.Conv2D(4, 3, activation="relu", name="second"),
        ]
    )
    copy = preactivation_model(model, ["second"], compute_dtype=compute_dtype)
    assert type(copy.get_layer("conv")).__name__ == "ImageConv2D"
    assert copy.get_layer("conv").crop == (1, 1)
    batch = tf.constant(images(2, seed=8, size=13))
    weights = tf.constant(np.random.default_rng(9).normal(size=(2, 3, 3, 4)), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(batch)
        fast = tf.reduce_sum(tf.nn.relu(copy(batch)) * weights)
        plain = tf.reduce_sum(model(batch) * weights)
    fast_gradient = tape.gradient(fast, batch).numpy()
    plain_gradient = tape.gradient(plain, batch).numpy()
    assert fast_gradient.shape == plain_gradient.shape == (2, 13, 13, 3)
    assert np.all(fast_gradient[:, 12, :, :] == 0) and np.all(fast_gradient[:, :, 12, :] == 0)
    tolerance = 1e-5 if compute_dtype == "float32" else 6e-2
    scale = np.abs(plain_gradient).max()
    np.testing.assert_allclose(fast_gradient / scale, plain_gradient / scale, atol=tolerance)
