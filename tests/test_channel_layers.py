"""One channel per image: the channel layers equal the whole layer's channel, objectives
narrow to them only when every row reads one channel, and an engine step is the same either
way."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import study_cnn
from test_preactivation_chains import chain_model  # noqa: F401  (a fixture)

from cnnlens.optvis import objectives
from cnnlens.optvis.channel_layers import ChannelConv2D, ChannelDense
from cnnlens.optvis.engine import AscentEngine
from cnnlens.optvis.objective_tables import narrowed


def images(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"strides": 2, "padding": "same"},
        {"dilation_rate": 2},
        {"padding": "same", "use_bias": False},
    ],
)
def test_a_channel_conv_gives_the_layers_own_channel_and_gradient(options) -> None:
    layer = keras.layers.Conv2D(5, 3, **options)
    batch = images((6, 11, 11, 3))
    layer.build(batch.shape)
    layer.set_weights([images(w.shape, seed=1 + i) for i, w in enumerate(layer.get_weights())])
    channel = np.array([0, 4, 2, 2, 1, 3], np.int32)
    copy = ChannelConv2D(layer)
    tensor = tf.constant(batch)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(tensor)
        whole = tf.gather(layer(tensor), channel, axis=3, batch_dims=1)
        alone = copy([tensor, tf.constant(channel)])[..., 0]
    assert alone.shape == whole.shape
    np.testing.assert_allclose(alone, whole, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        tape.gradient(alone, tensor), tape.gradient(whole, tensor), rtol=1e-5, atol=1e-5
    )


def test_a_channel_dense_gives_the_layers_own_unit() -> None:
    layer = keras.layers.Dense(7)
    batch = images((5, 12))
    layer.build(batch.shape)
    channel = np.array([6, 0, 3, 3, 1], np.int32)
    alone = ChannelDense(layer)([batch, channel])
    whole = layer(batch).numpy()[np.arange(5), channel]
    np.testing.assert_allclose(alone.numpy()[:, 0], whole, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def cnn() -> keras.Model:
    keras.utils.set_random_seed(3)
    return study_cnn()


@pytest.fixture(scope="module")
def engine(cnn) -> AscentEngine:
    return AscentEngine(cnn, ["Conv2D_2"])


def test_one_channel_per_row_narrows_and_mixed_rows_do_not(engine) -> None:
    maps = engine.compile(objectives.channels("Conv2D_2", [3, 0, 63]).revived())
    assert maps.channel.tolist() == [3, 0, 63]
    assert [weight.shape for weight in maps.weights] == [(3, 1)]
    nodes = engine.compile(objectives.neurons("Conv2D_2", [5, 5], [(0, 0), (10, 10)]))
    assert nodes.channel.tolist() == [5, 5] and nodes.masks[0].shape == (2, 11, 11)
    two_maps = objectives.channel("Conv2D_2", 1) + objectives.channel("Conv2D_2", 2)
    for whole in (
        objectives.layer_mean("Conv2D_2"),
        two_maps,
        objectives.channels("Conv2D_2", [1, 2]) + objectives.diversity("Conv2D_2", [0, 0]),
    ):
        assert engine.compile(whole).channel is None
    assert narrowed(maps) is maps


def test_an_engine_of_two_layers_reads_whole_layers(cnn) -> None:
    engine = AscentEngine(cnn, ["Conv2D_1", "Conv2D_2"])
    assert engine.channel_model is None
    assert engine.compile(objectives.channels("Conv2D_1", [0, 1])).channel is None


@pytest.mark.parametrize("layer", ["Conv2D_1", "Conv2D_3", "dense"])
def test_a_step_through_one_channel_equals_the_step_through_the_whole_layer(cnn, layer) -> None:
    narrow = AscentEngine(cnn, [layer])
    whole = AscentEngine(cnn, [layer])
    whole.channel_model = None
    objective = objectives.channels(layer, [0, 9, 9, 2]).revived()
    start = images((4, 28, 28, 1), seed=5)
    narrow_tables, whole_tables = narrow.compile(objective), whole.compile(objective)
    assert narrow_tables.channel is not None and whole_tables.channel is None
    narrow_state, narrow_values = narrow.step(start, narrow_tables, 0.01)
    whole_state, whole_values = whole.step(start, whole_tables, 0.01)
    np.testing.assert_allclose(narrow_values, whole_values, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(narrow_state, whole_state, rtol=1e-4, atol=1e-5)


def test_one_channel_per_image_works_on_images_of_any_size(cnn) -> None:
    narrow = AscentEngine(cnn, ["Conv2D_3"], input_shape=(None, None, 1))
    whole = AscentEngine(cnn, ["Conv2D_3"], input_shape=(None, None, 1))
    whole.channel_model = None
    objective = objectives.channels("Conv2D_3", [7, 100])
    start = images((2, 41, 36, 1), seed=8)
    values = narrow.objective(start, objective)
    assert (values > 0).all()  # both maps fire: the steps below move the images
    np.testing.assert_allclose(values, whole.objective(start, objective), rtol=1e-5)
    narrow_state, _ = narrow.step(start, objective, 0.02)
    whole_state, _ = whole.step(start, objective, 0.02)
    np.testing.assert_allclose(narrow_state, whole_state, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layer", ["first", "strided", "separate", "hidden", "logits"])
def test_every_kind_of_target_climbs_the_same_through_one_channel(
    chain_model, layer  # noqa: F811
) -> None:
    """Conv -> batch normalisation -> ReLU layer, an inline ReLU with stride 2 and "same"
    padding, a ReLU layer of its own, a dense ReLU layer and linear logits."""
    narrow = AscentEngine(chain_model, [layer])
    whole = AscentEngine(chain_model, [layer])
    whole.channel_model = None
    count = narrow.channels[0]
    objective = objectives.channels(layer, [0, count - 1, 1]).revived()
    assert narrow.compile(objective).channel is not None
    start = images((3, 30, 30, 3), seed=2)
    np.testing.assert_allclose(
        narrow.objective(start, objective), whole.objective(start, objective), rtol=1e-5, atol=1e-6
    )
    narrow_state, _ = narrow.step(start, objective, 0.02)
    whole_state, _ = whole.step(start, objective, 0.02)
    assert not np.allclose(narrow_state, start)
    np.testing.assert_allclose(narrow_state, whole_state, rtol=1e-4, atol=1e-5)


def test_a_normalisation_of_another_axis_reads_whole_layers() -> None:
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(axis=1, name="rows")(x)
    outputs = keras.layers.ReLU(name="relu")(x)
    engine = AscentEngine(keras.Model(inputs, outputs), ["conv"])
    assert engine.channel_model is None
