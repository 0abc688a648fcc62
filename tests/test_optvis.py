"""The ascent engine in parts (cnnlens.optvis) on a CNN with planted maps (no training needed):
the pre-activation copy, objectives as values, the compiled step, the loop with its
transforms and schedule."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import study_cnn

from cnnlens.data import standardise_images
from cnnlens.errors import CnnLensError
from cnnlens.optvis import objectives
from cnnlens.optvis.engine import AscentEngine
from cnnlens.optvis.param import Pixels
from cnnlens.optvis.preactivation import preactivation_model, resolve_compute_dtype
from cnnlens.optvis.render import render
from cnnlens.optvis.transforms import RandomRoll
from cnnlens.preprocessing import Preprocessing
from cnnlens.settings import Convergence

VERTICAL_EDGE = np.array([[-1.0, 0.0, 1.0]] * 3, np.float32)


@pytest.fixture(scope="module")
def planted_cnn():
    """An untrained CNN whose Conv2D_1 map 0 detects vertical edges, Conv2D_1 map 1 is dead for
    good (zero kernel, negative bias) and Conv2D_2 map 0 is asleep: its bias lies 0.5 below
    its largest pre-activation on noise, so noise starts give it zero everywhere."""
    import keras

    keras.utils.set_random_seed(7)
    model = study_cnn()
    kernel, bias = model.get_layer("Conv2D_1").get_weights()
    kernel[:, :, 0, 0] = VERTICAL_EDGE
    bias[0] = 0.0
    kernel[:, :, 0, 1] = 0.0
    bias[1] = -1.0
    model.get_layer("Conv2D_1").set_weights([kernel, bias])
    pre = preactivation_model(model, ["Conv2D_2"]).predict(noise(32, seed=9), verbose=0)
    kernel, bias = model.get_layer("Conv2D_2").get_weights()
    bias[0] -= pre[..., 0].max() + 0.5
    model.get_layer("Conv2D_2").set_weights([kernel, bias])
    return model


@pytest.fixture(scope="module")
def engine(planted_cnn):
    return AscentEngine(planted_cnn, ["Conv2D_1"])


def noise(count: int, seed: int = 0, size: int = 28) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return standardise_images(rng.uniform(-1, 1, (count, size, size, 1)))


def test_ascent_raises_the_planted_maps_objective(engine):
    objective = objectives.channels("Conv2D_1", [0, 0, 0])
    result = render(engine, noise(3), objective, 60, 0.05, snapshot_steps=(0, 10, 60))
    assert engine.input_shape == (28, 28, 1)
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
    values = engine.objective(images, objectives.channels("Conv2D_1", maps))
    np.testing.assert_allclose(
        values, activations[np.arange(4), :, :, maps].mean(axis=(1, 2)), rtol=1e-5
    )
    nodes = [(0, 0), (5, 7), (25, 25), (12, 3)]
    node_values = engine.objective(images, objectives.neurons("Conv2D_1", maps, nodes))
    expected = [activations[b, i, j, k] for b, ((i, j), k) in enumerate(zip(nodes, maps))]
    np.testing.assert_allclose(node_values, expected, rtol=1e-5, atol=1e-7)
    means = engine.mean_activations(images, batch_size=3)[0]
    np.testing.assert_allclose(means, activations.mean(axis=(1, 2)), rtol=1e-5, atol=1e-7)
    whole = engine.objective(images, objectives.layer_mean("Conv2D_1").tile(4))
    np.testing.assert_allclose(whole, activations.mean(axis=(1, 2, 3)), rtol=1e-5)


def test_objectives_compose_as_values(engine):
    images = noise(2, seed=6)
    mean_3 = objectives.channel("Conv2D_1", 3)
    node_5 = objectives.neuron("Conv2D_1", 5, (4, 9))
    combined = 2.0 * mean_3 + node_5 * 0.5 + objectives.layer_mean("Conv2D_1")
    assert combined.batch == 1 and len(combined.rows[0]) == 3
    parts = [engine.objective(images, part.tile(2)) for part in (mean_3, node_5)]
    whole = engine.objective(images, objectives.layer_mean("Conv2D_1").tile(2))
    np.testing.assert_allclose(
        engine.objective(images, combined.tile(2)),
        2.0 * parts[0] + 0.5 * parts[1] + whole,
        rtol=1e-5,
    )
    # a batch-1 objective is added to every row; sum() works; stacking concatenates rows
    rows = objectives.channels("Conv2D_1", [1, 2, 3]) + mean_3
    assert rows.batch == 3 and all(len(row) == 2 for row in rows.rows)
    assert sum([mean_3, node_5]).rows == (mean_3 + node_5).rows
    stacked = objectives.stack([mean_3, node_5.revived(), rows])
    assert stacked.batch == 5 and stacked.revive == (False, True, False, False, False)
    assert stacked.take([1]).rows == node_5.rows
    assert objectives.channels("Conv2D_1", [7, 8]).repeat(2).rows == (
        objectives.channels("Conv2D_1", [7, 7, 8, 8]).rows
    )
    with pytest.raises(CnnLensError, match="cannot add"):
        objectives.channels("Conv2D_1", [1, 2]) + objectives.channels("Conv2D_1", [1, 2, 3])


def test_whole_layer_weights_compile_exactly_as_weight_over_channels(planted_cnn):
    dreamer = AscentEngine(planted_cnn, ["Conv2D_1", "Conv2D_2"], input_shape=(None, None, 1))
    mix = 0.3 * objectives.layer_mean("Conv2D_1") + 0.7 * objectives.layer_mean("Conv2D_2")
    tables = dreamer.compile(objectives.stack([mix, objectives.channels("Conv2D_2", [4])]))
    assert tables.layers == (0, 1) and tables.masks == (None, None)
    np.testing.assert_array_equal(tables.weights[0][0], np.full(32, 0.3 / 32, np.float32))
    np.testing.assert_array_equal(tables.weights[1][0], np.full(64, 0.7 / 64, np.float32))
    assert tables.weights[0][1].sum() == 0 and tables.weights[1][1, 4] == 1.0


def test_a_row_that_pools_a_layer_in_two_ways_gets_two_slots(engine):
    objective = objectives.channel("Conv2D_1", 3) + objectives.neuron("Conv2D_1", 3, (2, 2))
    tables = engine.compile(objective.tile(2))
    assert tables.layers == (0, 0)
    assert tables.masks[0] is None and tables.masks[1].shape == (2, 26, 26)


@pytest.mark.parametrize("revival", ["mean", "max"])
def test_a_dead_map_stays_at_zero_and_a_sleeping_map_is_revived(planted_cnn, revival):
    engine = AscentEngine(planted_cnn, ["Conv2D_1", "Conv2D_2"], revival=revival)
    images = noise(2, seed=1)
    both = objectives.stack([objectives.channel("Conv2D_1", 1), objectives.channel("Conv2D_2", 0)])
    stuck = render(engine, images, both, 150, 0.05)
    # without revival neither map moves: zero activation everywhere, zero gradient
    assert np.all(stuck.history == 0)
    np.testing.assert_allclose(stuck.images, images, atol=1e-5)
    revived = render(engine, images, both.revived(), 150, 0.05)
    assert revived.objective[0] == 0  # nothing wakes a zero kernel with a negative bias
    assert revived.objective[1] > 0  # pre-activation ascent wakes the sleeping map


def test_results_do_not_depend_on_batches_or_batch_companions(engine):
    images = noise(5, seed=2)
    maps = np.array([0, 3, 4, 7, 9])
    objective = objectives.channels("Conv2D_1", maps)
    whole = render(engine, images, objective, 15, 0.01, snapshot_steps=(0, 7))
    batched = render(engine, images, objective, 15, 0.01, snapshot_steps=(0, 7), batch_size=2)
    alone = render(engine, images[3:4], objective.take([3]), 15, 0.01)
    np.testing.assert_allclose(batched.images, whole.images, atol=1e-5)
    np.testing.assert_allclose(batched.history, whole.history, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(alone.images[0], whole.images[3], atol=1e-5)


def test_early_stop_freezes_converged_images(engine):
    images = noise(4, seed=4)
    objective = objectives.channels("Conv2D_1", [0, 0, 3, 1]).revived()
    convergence = Convergence(threshold=1e-2, patience=3, early_stop=True)
    result = render(engine, images, objective, 300, 0.05, convergence, snapshot_steps=(300,))
    converged = result.converged_step >= 0
    assert converged[:3].all() and not converged[3]  # map 1 is dead: never converges
    assert np.all(result.steps_run[:3] == result.converged_step[:3])
    for index in np.flatnonzero(converged):
        stop = result.converged_step[index]
        assert np.all(result.history[index, stop:] == result.history[index, stop])
    np.testing.assert_allclose(result.snapshots[0], result.images)
    untracked = render(engine, images, objective, 30, 0.05)
    assert np.all(untracked.converged_step == -1) and np.all(untracked.steps_run == 30)


class AddAt:
    """A schedule: adds ``extra`` to the images at step ``at``."""

    def __init__(self, at: int, extra: np.ndarray) -> None:
        self.last_change = at
        self.extra = extra

    def __call__(self, step, images, rows):
        return standardise_images(images + self.extra[rows]) if step == self.last_change else None


def test_a_schedule_changes_images_and_restarts_convergence(engine):
    images, extra = noise(3, seed=5), 2 * noise(3, seed=6)
    objective = objectives.channels("Conv2D_1", [0, 3, 0])
    convergence = Convergence(threshold=0.5, patience=2, early_stop=True)
    result = render(
        engine, images, objective, 20, 0.05, convergence, (0, 8, 10, 20), (), AddAt(10, extra)
    )
    first = render(engine, images, objective, 10, 0.05, snapshot_steps=(0, 8))
    changed = standardise_images(first.images + extra)
    second = render(engine, changed, objective, 10, 0.05, convergence, snapshot_steps=(0, 10))
    np.testing.assert_array_equal(result.images, second.images)
    np.testing.assert_array_equal(result.history[:, :10], first.history[:, :10])
    np.testing.assert_array_equal(result.history[:, 10:], second.history)
    np.testing.assert_array_equal(result.snapshots[:2], first.snapshots)
    np.testing.assert_array_equal(result.snapshots[2:], second.snapshots)
    # convergence counts again from the change, early stop applies only after it
    assert np.all(result.converged_step >= 10)
    np.testing.assert_array_equal(result.converged_step, second.converged_step + 10)
    np.testing.assert_array_equal(result.steps_run, second.steps_run + 10)


def test_random_rolls_are_drawn_once_and_undone_after_each_step(engine):
    import tensorflow as tf

    images = noise(2, seed=7)
    objective = objectives.channels("Conv2D_1", [0, 6])
    result = render(engine, images, objective, 6, 0.05, transforms=[RandomRoll(3, rng(1))])
    shifts = rng(1).integers(-3, 4, size=(6, 2))
    current = tf.constant(images)
    history = [engine.objective(images, objective)]
    for step, shift in enumerate(shifts.tolist()):
        moved, values = engine.step(tf.roll(current, shift, axis=(1, 2)), objective, 0.05)
        current = tf.roll(moved, [-offset for offset in shift], axis=(1, 2))
        if step:
            history.append(values.numpy())
    history.append(engine.objective(current.numpy(), objective))
    np.testing.assert_array_equal(result.images, current.numpy())
    np.testing.assert_array_equal(result.history, np.stack(history, axis=1))
    still = render(engine, images, objective, 6, 0.05, transforms=[RandomRoll(0, rng(1))])
    plain = render(engine, images, objective, 6, 0.05)
    np.testing.assert_allclose(still.images, plain.images, atol=1e-6)
    np.testing.assert_allclose(still.history, plain.history, rtol=1e-6)


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_fully_convolutional_engine_accepts_any_size(planted_cnn):
    dreamer = AscentEngine(planted_cnn, ["Conv2D_2", "Conv2D_1"], input_shape=(None, None, 1))
    assert dreamer.channels == (64, 32)
    objective = objectives.layer_mean("Conv2D_1")
    tables = dreamer.compile(objective)
    assert tables.weights[1].sum() == pytest.approx(1.0)
    assert tables.weights[0].sum() == 0
    result = render(dreamer, noise(1, size=60), objective, 5, 0.01)
    assert result.images.shape == (1, 60, 60, 1)
    assert result.objective[0] > result.history[0, 0]


# dense layers are targets too (tests/test_dense_oips.py); flatten and pooling are not
@pytest.mark.parametrize("layer", ["flatten", "Max_Pool_1", "nonsense"])
def test_non_conv_layers_are_refused(planted_cnn, layer):
    with pytest.raises(CnnLensError):
        preactivation_model(planted_cnn, [layer])


def test_bad_maps_nodes_steps_and_dtypes_are_refused(planted_cnn, engine):
    with pytest.raises(CnnLensError, match="out of range"):
        engine.compile(objectives.channels("Conv2D_1", [32]))
    with pytest.raises(CnnLensError, match="node"):
        engine.compile(objectives.neuron("Conv2D_1", 0, (26, 0)))
    with pytest.raises(CnnLensError, match="not a target"):
        engine.compile(objectives.channel("Conv2D_2", 0))
    with pytest.raises(CnnLensError, match="snapshot steps"):
        render(engine, noise(1), objectives.channel("Conv2D_1", 0), 5, 0.1, snapshot_steps=(6,))
    with pytest.raises(CnnLensError, match="dtype"):
        AscentEngine(planted_cnn, ["Conv2D_1"], compute_dtype="float16")
    with pytest.raises(CnnLensError, match="revival"):
        AscentEngine(planted_cnn, ["Conv2D_1"], revival="median")


def test_bfloat16_compute_keeps_float32_images(planted_cnn):
    engine = AscentEngine(planted_cnn, ["Conv2D_1"], compute_dtype="bfloat16")
    result = render(engine, noise(2), objectives.channels("Conv2D_1", [0, 0]), 30, 0.05)
    assert result.images.dtype == np.float32
    assert np.all(result.objective > 2 * result.history[:, 0])


@pytest.mark.parametrize("layer", ["Conv2D_1", "Conv2D_2", "Conv2D_3"])
def test_a_step_follows_the_update_rule_on_the_original_model(planted_cnn, layer):
    """The engine's pre-activation copy (cropped input, pooling before ReLU, its own input
    gradient for the first conv) climbs exactly as the original model's gradient says."""
    images = noise(3, seed=8)
    maps = np.array([0, 3, 5])
    engine = AscentEngine(planted_cnn, [layer])
    moved, values = engine.step(images, objectives.channels(layer, maps), 0.05)
    objective, expected, gradient = reference_step(planted_cnn, layer, images, maps, 0.05)
    np.testing.assert_allclose(values.numpy(), objective, rtol=1e-5)
    np.testing.assert_allclose(moved.numpy(), expected, atol=1e-5)
    if layer == "Conv2D_3":  # the last two rows and columns never reach Conv2D_3
        assert np.all(gradient[:, 26:, :, :] == 0)


def reference_step(model, layer: str, images: np.ndarray, maps: np.ndarray, epsilon: float):
    """(objective, image after one step, gradient) of each image climbing the mean activation
    of its map, by the original model's own gradient and the update rule (RMS-normalised step,
    then standardised over all pixels and channels)."""
    import keras
    import tensorflow as tf

    images = tf.constant(images)
    original = keras.Model(model.inputs, model.get_layer(layer).output)
    with tf.GradientTape() as tape:
        tape.watch(images)
        activation = original(images)
        chosen = tf.one_hot(maps, activation.shape[-1])[:, None, None, :]
        objective = tf.reduce_mean(tf.reduce_sum(activation * chosen, axis=3), axis=[1, 2])
        total = tf.reduce_sum(objective)
    gradient = tape.gradient(total, images).numpy()
    rms = np.sqrt(np.mean(gradient**2, axis=(1, 2, 3), keepdims=True))
    expected = standardise_images(images.numpy() + epsilon * gradient / (rms + 1e-7))
    return objective.numpy(), expected, gradient


def test_auto_compute_dtype_follows_the_cpu(tmp_path, monkeypatch):
    from cnnlens import device

    native, plain = tmp_path / "native", tmp_path / "plain"
    native.write_text("flags\t\t: fpu avx2 avx512f avx512_bf16\n")
    plain.write_text("flags\t\t: fpu avx2\n")
    monkeypatch.setattr(device, "has_gpu", lambda: False)
    assert resolve_compute_dtype("auto", str(plain)) == "float32"
    assert resolve_compute_dtype("auto", str(native)) == "bfloat16"
    assert resolve_compute_dtype("float32", str(native)) == "float32"
    monkeypatch.setattr(device, "has_gpu", lambda: True)
    assert resolve_compute_dtype("auto", str(native)) == "float32"
    with pytest.raises(CnnLensError, match="dtype"):
        resolve_compute_dtype("float8")


# ---- colour models and bounded input ranges ----

COLOUR_SHAPE = (16, 16, 3)
UNIT = Preprocessing("unit", 0.0, 255.0, 0.0, 1.0)
RAW = Preprocessing("none", low=0.0, high=255.0)


@pytest.fixture(scope="module")
def colour_cnn():
    """A small functional colour CNN with its own layer names, 16x16x3 inputs: map 0 of
    ``hue`` sees red (red minus green and blue over a 3x3 window), map 1 green, map 2 blue;
    map 3 and ``texture`` are random."""
    import keras

    keras.utils.set_random_seed(3)
    inputs = keras.Input(COLOUR_SHAPE, name="picture")
    hue = keras.layers.Conv2D(4, 3, activation="relu", name="hue")(inputs)
    pooled = keras.layers.MaxPooling2D(2, name="shrink")(hue)
    texture = keras.layers.Conv2D(6, 3, activation="relu", name="texture")(pooled)
    flat = keras.layers.Flatten(name="flat")(texture)
    outputs = keras.layers.Dense(3, activation="softmax", name="colour_class")(flat)
    model = keras.Model(inputs, outputs)
    kernel, bias = model.get_layer("hue").get_weights()
    for colour in range(3):
        kernel[:, :, :, colour] = -1.0 / 9
        kernel[:, :, colour, colour] = 2.0 / 9
        bias[colour] = 0.0
    model.get_layer("hue").set_weights([kernel, bias])
    return model


def colour_noise(count: int, seed: int = 0) -> np.ndarray:
    return standardise_images(np.random.default_rng(seed).uniform(-1, 1, (count, *COLOUR_SHAPE)))


def test_a_colour_step_follows_the_update_rule_and_standardises_over_all_channels(colour_cnn):
    images = colour_noise(2, seed=4)
    maps = np.array([1, 4])
    engine = AscentEngine(colour_cnn, ["texture"])
    moved, values = engine.step(images, objectives.channels("texture", maps), 0.05)
    objective, expected, _ = reference_step(colour_cnn, "texture", images, maps, 0.05)
    np.testing.assert_allclose(values.numpy(), objective, rtol=1e-5)
    np.testing.assert_allclose(moved.numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("preprocessing", [UNIT, RAW])
def test_bounded_ranges_clip_every_step_and_count_epsilon_in_sixths_of_the_span(
    colour_cnn, preprocessing
):
    import tensorflow as tf

    param = Pixels(preprocessing)
    low, high = preprocessing.low, preprocessing.high
    state = tf.constant(np.full((1, 4, 4, 3), (low + high) / 2, np.float32))
    gradient = tf.constant(np.random.default_rng(1).normal(size=(1, 4, 4, 3)), tf.float32)
    moved = param.update(state, gradient, tf.constant(0.3)).numpy()
    step = (moved - state.numpy()).reshape(-1)
    assert np.sqrt(np.mean(step**2)) == pytest.approx(0.3 * (high - low) / 6, rel=1e-4)
    pushed = param.update(state, gradient, tf.constant(100.0)).numpy()
    assert pushed.min() == low and pushed.max() == high
    engine = AscentEngine(colour_cnn, ["hue"], param=param)
    start = preprocessing.project((low + high) / 2 + colour_noise(2, seed=2) * (high - low) / 6)
    result = render(engine, start, objectives.channels("hue", [0, 2]), 40, 0.1)
    assert low <= result.images.min() and result.images.max() <= high
    assert np.all(result.objective > result.history[:, 0])
