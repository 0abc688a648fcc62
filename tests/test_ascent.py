"""The gradient-ascent engine on a CNN with planted maps (no training needed)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from cnnlens import ascent
from cnnlens.data import standardise_images
from cnnlens.errors import CnnLensError
from cnnlens.model import build_cnn

REPOSITORY = Path(__file__).resolve().parents[1]
VERTICAL_EDGE = np.array([[-1.0, 0.0, 1.0]] * 3, np.float32)


@pytest.fixture(scope="module")
def planted_cnn():
    """An untrained CNN whose Conv2D_1 map 0 detects vertical edges, Conv2D_1 map 1 is dead for
    good (zero kernel, negative bias) and Conv2D_2 map 0 is asleep: its bias lies 0.5 below
    its largest pre-activation on noise, so noise starts give it zero everywhere."""
    import keras

    keras.utils.set_random_seed(7)
    model = build_cnn()
    kernel, bias = model.get_layer("Conv2D_1").get_weights()
    kernel[:, :, 0, 0] = VERTICAL_EDGE
    bias[0] = 0.0
    kernel[:, :, 0, 1] = 0.0
    bias[1] = -1.0
    model.get_layer("Conv2D_1").set_weights([kernel, bias])
    pre = ascent.preactivation_model(model, ["Conv2D_2"]).predict(noise(32, seed=9), verbose=0)
    kernel, bias = model.get_layer("Conv2D_2").get_weights()
    bias[0] -= pre[..., 0].max() + 0.5
    model.get_layer("Conv2D_2").set_weights([kernel, bias])
    return model


@pytest.fixture(scope="module")
def engine(planted_cnn):
    return ascent.AscentEngine(planted_cnn, ["Conv2D_1"])


def noise(count: int, seed: int = 0, size: int = 28) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return standardise_images(rng.uniform(-1, 1, (count, size, size, 1)))


def test_ascent_raises_the_planted_maps_objective(engine):
    objective = ascent.map_objective(engine, "Conv2D_1", [0, 0, 0])
    settings = ascent.AscentSettings(steps=60, epsilon=0.05, snapshot_steps=(0, 10, 60))
    result = ascent.run_ascent(engine, noise(3), objective, settings)
    assert result.images.shape == (3, 28, 28, 1)
    assert result.history.shape == (3, 61)
    assert result.snapshots.shape == (3, 3, 28, 28, 1)
    assert np.all(result.objective > 2 * result.history[:, 0])
    np.testing.assert_allclose(result.snapshots[0], noise(3), atol=1e-6)
    np.testing.assert_allclose(result.snapshots[-1], result.images)
    # the images stay standardised
    np.testing.assert_allclose(result.images.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(result.images.std(axis=(1, 2, 3)), 1, atol=1e-4)
    # the climb is monotone at this step size: ReLU nets are piecewise linear
    assert np.all(np.diff(result.history, axis=1) > -1e-3)


def test_objective_matches_a_direct_computation(planted_cnn, engine):
    import keras

    images = noise(4, seed=3)
    conv = keras.Model(planted_cnn.inputs, planted_cnn.get_layer("Conv2D_1").output)
    activations = conv.predict(images, verbose=0)
    maps = np.array([0, 3, 5, 31])
    values = engine.objective(images, ascent.map_objective(engine, "Conv2D_1", maps))
    np.testing.assert_allclose(
        values, activations[np.arange(4), :, :, maps].mean(axis=(1, 2)), rtol=1e-5
    )
    nodes = [(0, 0), (5, 7), (25, 25), (12, 3)]
    node_values = engine.objective(images, ascent.map_objective(engine, "Conv2D_1", maps, nodes))
    expected = [activations[b, i, j, k] for b, ((i, j), k) in enumerate(zip(nodes, maps))]
    np.testing.assert_allclose(node_values, expected, rtol=1e-5, atol=1e-7)
    means = engine.mean_activations(images, chunk_size=3)[0]
    np.testing.assert_allclose(means, activations.mean(axis=(1, 2)), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("revival", ["mean", "max"])
def test_a_dead_map_stays_at_zero_and_a_sleeping_map_is_revived(planted_cnn, revival):
    engine = ascent.AscentEngine(planted_cnn, ["Conv2D_1", "Conv2D_2"], revival=revival)
    images = noise(2, seed=1)
    dead, sleeping = (
        ascent.map_objective(engine, layer, [index])
        for layer, index in (("Conv2D_1", 1), ("Conv2D_2", 0))
    )
    both = ascent.Objective(
        weights=tuple(np.concatenate(pair) for pair in zip(dead.weights, sleeping.weights)),
        masks=(None, None),
        revive=np.array([False, False]),
    )
    settings = ascent.AscentSettings(steps=150, epsilon=0.05)
    stuck = ascent.run_ascent(engine, images, both, settings)
    # without revival neither map moves: zero activation everywhere, zero gradient
    assert np.all(stuck.history == 0)
    np.testing.assert_allclose(stuck.images, images, atol=1e-5)
    revived = ascent.run_ascent(
        engine, images, replace(both, revive=np.array([True, True])), settings
    )
    assert revived.objective[0] == 0  # nothing wakes a zero kernel with a negative bias
    assert revived.objective[1] > 0  # pre-activation ascent wakes the sleeping map


def test_results_do_not_depend_on_chunking_or_batch_companions(engine):
    images = noise(5, seed=2)
    maps = np.array([0, 3, 4, 7, 9])
    settings = ascent.AscentSettings(steps=15, snapshot_steps=(0, 7))
    whole = ascent.run_ascent(
        engine, images, ascent.map_objective(engine, "Conv2D_1", maps), settings
    )
    chunked = ascent.run_ascent(
        engine, images, ascent.map_objective(engine, "Conv2D_1", maps), replace_chunk(settings, 2)
    )
    alone = ascent.run_ascent(
        engine, images[3:4], ascent.map_objective(engine, "Conv2D_1", maps[3:4]), settings
    )
    np.testing.assert_allclose(chunked.images, whole.images, atol=1e-5)
    np.testing.assert_allclose(chunked.history, whole.history, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(alone.images[0], whole.images[3], atol=1e-5)


def replace_chunk(settings: ascent.AscentSettings, chunk_size: int) -> ascent.AscentSettings:
    return replace(settings, chunk_size=chunk_size)


def test_early_stop_freezes_converged_images(engine):
    images = noise(4, seed=4)
    objective = ascent.map_objective(engine, "Conv2D_1", [0, 0, 3, 1], revive=True)
    settings = ascent.AscentSettings(
        steps=300, epsilon=0.05, threshold=1e-2, patience=3, early_stop=True, snapshot_steps=(300,)
    )
    result = ascent.run_ascent(engine, images, objective, settings)
    converged = result.converged_step >= 0
    assert converged[:3].all() and not converged[3]  # map 1 is dead: never converges
    assert np.all(result.steps_run[:3] == result.converged_step[:3])
    for index in np.flatnonzero(converged):
        stop = result.converged_step[index]
        assert np.all(result.history[index, stop:] == result.history[index, stop])
    np.testing.assert_allclose(result.snapshots[0], result.images)


def test_fully_convolutional_engine_accepts_any_size(planted_cnn):
    dreamer = ascent.AscentEngine(
        planted_cnn, ["Conv2D_2", "Conv2D_1"], input_shape=(None, None, 1)
    )
    assert dreamer.channels == (64, 32)
    objective = ascent.layer_objective(dreamer, batch=1, layer_weights={"Conv2D_1": 1.0})
    assert objective.weights[1].sum() == pytest.approx(1.0)
    assert objective.weights[0].sum() == 0
    result = ascent.run_ascent(
        dreamer, noise(1, size=60), objective, ascent.AscentSettings(steps=5)
    )
    assert result.images.shape == (1, 60, 60, 1)
    assert result.objective[0] > result.history[0, 0]


@pytest.mark.parametrize("layer", ["dense", "Max_Pool_1", "nonsense"])
def test_non_conv_layers_are_refused(planted_cnn, layer):
    with pytest.raises(CnnLensError):
        ascent.preactivation_model(planted_cnn, [layer])


def test_bad_maps_nodes_and_dtypes_are_refused(planted_cnn, engine):
    with pytest.raises(CnnLensError, match="out of range"):
        ascent.map_objective(engine, "Conv2D_1", [32])
    with pytest.raises(CnnLensError, match="node"):
        ascent.map_objective(engine, "Conv2D_1", [0], nodes=[(26, 0)])
    with pytest.raises(CnnLensError, match="not a target"):
        ascent.map_objective(engine, "Conv2D_2", [0])
    with pytest.raises(CnnLensError, match="dtype"):
        ascent.AscentEngine(planted_cnn, ["Conv2D_1"], compute_dtype="float16")
    with pytest.raises(CnnLensError, match="revival"):
        ascent.AscentEngine(planted_cnn, ["Conv2D_1"], revival="median")


def test_bfloat16_compute_keeps_float32_images(planted_cnn):
    engine = ascent.AscentEngine(planted_cnn, ["Conv2D_1"], compute_dtype="bfloat16")
    objective = ascent.map_objective(engine, "Conv2D_1", [0, 0])
    result = ascent.run_ascent(
        engine, noise(2), objective, ascent.AscentSettings(steps=30, epsilon=0.05)
    )
    assert result.images.dtype == np.float32
    assert np.all(result.objective > 2 * result.history[:, 0])


@pytest.mark.parametrize("layer", ["Conv2D_1", "Conv2D_2", "Conv2D_3"])
def test_a_step_is_spec_4_3_on_the_original_model(planted_cnn, layer):
    """The engine's pre-activation copy (cropped input, pooling before ReLU, its own input
    gradient for the first conv) climbs exactly as the original model's gradient says."""
    import keras
    import tensorflow as tf

    engine = ascent.AscentEngine(planted_cnn, [layer])
    images = tf.constant(noise(3, seed=8))
    maps = np.array([0, 3, 5])
    moved, values = engine.step(images, ascent.map_objective(engine, layer, maps), 0.05)
    original = keras.Model(planted_cnn.inputs, planted_cnn.get_layer(layer).output)
    with tf.GradientTape() as tape:
        tape.watch(images)
        activation = original(images)
        chosen = tf.one_hot(maps, activation.shape[-1])[:, None, None, :]
        objective = tf.reduce_mean(tf.reduce_sum(activation * chosen, axis=3), axis=[1, 2])
        total = tf.reduce_sum(objective)
    gradient = tape.gradient(total, images)
    rms = tf.sqrt(tf.reduce_mean(tf.square(gradient), axis=[1, 2, 3], keepdims=True))
    expected = images + 0.05 * gradient / (rms + 1e-7)
    expected = (
        expected - tf.reduce_mean(expected, axis=[1, 2, 3], keepdims=True)
    ) / tf.math.reduce_std(expected, axis=[1, 2, 3], keepdims=True)
    np.testing.assert_allclose(values.numpy(), objective.numpy(), rtol=1e-5)
    np.testing.assert_allclose(moved.numpy(), expected.numpy(), atol=1e-5)
    if layer == "Conv2D_3":  # the last two rows and columns never reach Conv2D_3
        assert np.all(gradient.numpy()[:, 26:, :, :] == 0)


def test_auto_compute_dtype_follows_the_cpu(tmp_path, monkeypatch):
    from cnnlens import runtime

    native, plain = tmp_path / "native", tmp_path / "plain"
    native.write_text("flags\t\t: fpu avx2 avx512f avx512_bf16\n")
    plain.write_text("flags\t\t: fpu avx2\n")
    monkeypatch.setattr(runtime, "has_gpu", lambda: False)
    assert ascent.resolve_compute_dtype("auto", str(plain)) == "float32"
    assert ascent.resolve_compute_dtype("auto", str(native)) == "bfloat16"
    assert ascent.resolve_compute_dtype("float32", str(native)) == "float32"
    monkeypatch.setattr(runtime, "has_gpu", lambda: True)
    assert ascent.resolve_compute_dtype("auto", str(native)) == "float32"
    with pytest.raises(CnnLensError, match="dtype"):
        ascent.resolve_compute_dtype("float8")
