"""The options of the OIP search (Fourier parameterisation, warps inside the step, penalties,
blur, diversity, per-layer noise, screening every start) on the planted models; with every
option at its default the search gives the bytes it gave before the options existed (reading
whole layers; through one channel per image it agrees to rounding)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from test_oip import SEED, SETTINGS
from test_optvis import (  # noqa: F401  (planted_cnn and colour_cnn are fixtures)
    UNIT,
    colour_cnn,
    colour_noise,
    noise,
    planted_cnn,
)

from cnnlens import settings
from cnnlens.blur import gaussian_blur
from cnnlens.errors import CnnLensError
from cnnlens.oip.search import LayerSearch
from cnnlens.oip.steps import check_noise_layers, layer_search_config, search_of_layer
from cnnlens.oip.targets import Targets
from cnnlens.optvis import engine as engine_module
from cnnlens.optvis import objectives, regularisers
from cnnlens.optvis.engine import AscentEngine
from cnnlens.optvis.param_fourier import Fourier
from cnnlens.optvis.transforms import RandomWarp, warp

REFERENCE = Path(__file__).parent / "data" / "oip_plain_reference.npz"
PLAIN = SETTINGS  # the reference was made with these (test_oip's) settings
OPTIONS = {
    "fourier": replace(PLAIN, param="fourier"),
    "transforms": replace(PLAIN, transforms=settings.OipTransforms(2, 0.1, 10.0)),
    "total_variation": replace(PLAIN, regularisers=settings.Regularisers(0.01, 0.0, 0, 0.5)),
    "l2": replace(PLAIN, regularisers=settings.Regularisers(0.0, 0.05, 0, 0.5)),
    "blur": replace(PLAIN, regularisers=settings.Regularisers(0.0, 0.0, 5, 0.5)),
    "diversity": replace(PLAIN, diversity=0.3),
    "screen every": replace(PLAIN, revival=replace(PLAIN.revival, screen="every")),
    "per-layer noise": replace(
        PLAIN,
        noise=replace(
            PLAIN.noise, per_layer={"Conv2D_1": settings.Scales((14, 28), (0.5, 0.5))}
        ),
    ),
}


def search_with(model, layer, search, maps, preprocessing=None, test_images=None):
    searcher = LayerSearch(model, layer, search, SEED, preprocessing)
    return searcher, searcher.run(Targets(layer, np.asarray(maps)), test_images)


# ---- defaults: the study's plain ascent, byte for byte ----


@pytest.mark.parametrize("one_channel", [False, True], ids=["whole layers", "one channel"])
def test_default_options_give_the_plain_ascents_bytes(
    planted_cnn, colour_cnn, one_channel, monkeypatch  # noqa: F811
):
    """The reference was written by the search before the options existed (same settings),
    whose engines read whole layers; reading one channel per image (the channel layers)
    rounds differently and agrees to 1e-5."""
    if not one_channel:
        monkeypatch.setattr(engine_module, "selects_channels", lambda *_: False)
    reference = np.load(REFERENCE)
    staged = replace(PLAIN, strategy=settings.Strategy("staged", (5, 10, 15)))
    cases = {
        "grey": (planted_cnn, "Conv2D_1", range(6), PLAIN, None),
        "sleep": (planted_cnn, "Conv2D_2", range(4), PLAIN, None),
        "staged": (planted_cnn, "Conv2D_1", range(3), staged, None),
        "colour_unit": (colour_cnn, "hue", range(4), PLAIN, UNIT),
    }
    for name, (model, layer, maps, search, preprocessing) in cases.items():
        test_images = noise(20, 5) if preprocessing is None else None
        _, result = search_with(model, layer, search, list(maps), preprocessing, test_images)
        arrays = {
            "images": result.restart_images,
            "objectives": result.restart_objectives,
            "histories": result.histories,
            "snapshots": result.snapshots,
        }
        for field, ours in arrays.items():
            expected = reference[f"{name}_{field}"]
            if one_channel:
                np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5, err_msg=name)
            else:
                assert np.array_equal(ours, expected), (name, field)


# ---- each option climbs, and its OIPs beat random images ----


@pytest.mark.parametrize("option", list(OPTIONS))
def test_each_option_raises_the_objective(planted_cnn, option):  # noqa: F811
    searcher, result = search_with(planted_cnn, "Conv2D_1", OPTIONS[option], [0, 2, 3])
    start = result.histories[:, :, 0]
    assert np.all(result.restart_objectives > start), option
    random_images = noise(64, seed=3)
    on_noise = searcher.evaluator.objective(
        random_images, objectives.channels("Conv2D_1", [0] * len(random_images))
    )
    # the planted edge detector (map 0): its OIP beats every random image
    assert result.objective[0] > on_noise.max(), option


@pytest.mark.parametrize("option", ["fourier", "transforms", "diversity"])
def test_options_climb_in_colour_in_bounded_range_in_bfloat16(colour_cnn, option):  # noqa: F811
    search = replace(OPTIONS[option], compute_dtype="bfloat16")
    _, result = search_with(colour_cnn, "hue", search, [0, 1, 2], UNIT)
    assert np.all(result.objective > result.histories[:, :, 0].max(axis=1))
    assert 0.0 <= result.restart_images.min() and result.restart_images.max() <= 1.0


# ---- Fourier ----


@pytest.mark.parametrize("channels, preprocessing", [(1, None), (3, UNIT)])
def test_a_fourier_state_gives_back_its_start_image(channels, preprocessing):
    if channels == 1:
        images = noise(3, seed=2)
    else:
        images = UNIT.project(0.5 + colour_noise(3, seed=2) / 6)
    param = Fourier(images.shape[1:3], channels, preprocessing)
    state = param.start(images)
    np.testing.assert_allclose(param.images(state), images, atol=2e-6)
    np.testing.assert_allclose(param.state(tf.constant(images)).numpy(), state.numpy(), atol=1e-4)


def test_fourier_weights_fall_as_one_over_the_frequency():
    from cnnlens.optvis.param_fourier import spectrum_weights

    weights = spectrum_weights(28, 28)
    assert weights.shape == (28, 15)
    assert np.sqrt(np.mean(weights**2)) == pytest.approx(1.0)
    assert weights[0, 1] == pytest.approx(2 * weights[0, 2])  # 1/f
    assert weights[0, 0] == weights[0, 1]  # the floor 1 / max(H, W)


# ---- warps ----


def test_warps_are_drawn_per_image_and_key_and_identity_when_off():
    keys = [[1, 2, 3, 0, 0], [1, 2, 3, 1, 0]]
    warps = RandomWarp(2, 0.1, 10.0).begin(5, keys, (28, 28))
    again = RandomWarp(2, 0.1, 10.0).begin(5, keys[1:], (28, 28))
    np.testing.assert_array_equal(warps.draws[1], again.draws[0])
    assert np.abs(warps.draws[..., :2]).max() <= 2
    assert not RandomWarp(0, 0.0, 0.0).active
    identity = RandomWarp(0, 0.0, 0.0).begin(3, keys, (28, 28)).matrices(0, np.arange(2))
    images = noise(2, seed=1)
    np.testing.assert_allclose(warp(tf.constant(images), identity).numpy(), images, atol=1e-5)


def test_a_jitter_shifts_the_image_and_the_gradient_flows_through(planted_cnn):  # noqa: F811
    warps = RandomWarp(3, 0.0, 0.0).begin(1, [[5, 6, 7, 0, 0]], (28, 28))
    rows, columns = warps.draws[0, 0, :2].astype(int)
    images = noise(1, seed=4)
    shifted = warp(tf.constant(images), warps.matrices(0, np.array([0]))).numpy()
    inner = shifted[0, 3:-3, 3:-3]
    expected = np.roll(images[0], (rows, columns), axis=(0, 1))[3:-3, 3:-3]
    np.testing.assert_allclose(inner, expected, atol=1e-5)
    engine = AscentEngine(planted_cnn, ["Conv2D_1"])
    objective = objectives.channel("Conv2D_1", 0)
    matrices = RandomWarp(0, 0.1, 20.0).begin(1, [[1, 1, 1, 1, 1]], (28, 28)).matrices(0, [0])
    plain_state, plain_value = engine.step(images, objective, 0.05)
    warped_state, warped_value = engine.step(images, objective, 0.05, matrices)
    assert not np.allclose(plain_value.numpy(), warped_value.numpy())
    assert not np.allclose(plain_state.numpy(), warped_state.numpy())
    assert np.isfinite(warped_state.numpy()).all()


# ---- penalties as objective parts ----


def test_penalties_compose_and_are_climbed_but_not_reported(planted_cnn):  # noqa: F811
    engine = AscentEngine(planted_cnn, ["Conv2D_1"])
    images = noise(4, seed=6)
    maps = objectives.channels("Conv2D_1", [0, 0, 2, 2])
    smooth = maps - 0.5 * objectives.total_variation() - 0.1 * objectives.l2()
    apart = smooth - 0.3 * objectives.diversity("Conv2D_1", [0, 0, 1, 1])
    tables = engine.compile(apart)
    np.testing.assert_allclose(tables.penalties, [[-0.5, -0.1, -0.3]] * 4)
    np.testing.assert_array_equal(tables.groups, [0, 0, 1, 1])
    np.testing.assert_array_equal(tables.take(np.array([2, 3])).groups, [1, 1])
    plain_state, plain_value = engine.step(images, maps, 0.05)
    state, value = engine.step(images, apart, 0.05)
    np.testing.assert_allclose(value.numpy(), plain_value.numpy(), rtol=1e-6)
    assert not np.allclose(state.numpy(), plain_state.numpy())
    # diversity reads the whole layer, the plain maps one channel each: rounding apart
    reported = engine.objective(images, apart)
    np.testing.assert_allclose(reported, engine.objective(images, maps), rtol=1e-6)
    two_layers = AscentEngine(planted_cnn, ["Conv2D_1", "Conv2D_2"])
    both = objectives.diversity("Conv2D_1", [0, 0]) + objectives.diversity("Conv2D_2", [0, 0])
    with pytest.raises(CnnLensError, match="one layer"):
        two_layers.compile(both)


def test_total_variation_penalty_gives_smoother_oips(planted_cnn):  # noqa: F811
    def roughness(images):
        return np.abs(np.diff(images, axis=-1)).mean()

    _, plain = search_with(planted_cnn, "Conv2D_1", PLAIN, [2, 3])
    _, smooth = search_with(planted_cnn, "Conv2D_1", OPTIONS["total_variation"], [2, 3])
    assert roughness(smooth.restart_images) < roughness(plain.restart_images)


def test_penalty_values():
    flat = tf.zeros((1, 4, 4, 1))
    stripes = tf.constant(np.tile([[0.0], [1.0]], (2, 4))[None, ..., None], tf.float32)
    assert float(regularisers.total_variation(flat)[0]) == 0.0
    assert float(regularisers.total_variation(stripes)[0]) == pytest.approx(1.0)
    assert float(regularisers.mean_square(stripes)[0]) == pytest.approx(0.5)
    activations = tf.constant(np.random.default_rng(0).random((4, 3, 3, 5)), tf.float32)
    activations = tf.concat([activations[:1], activations[:1], activations[2:]], axis=0)
    similarity = regularisers.group_similarity(activations, tf.constant([0, 0, 1, -1])).numpy()
    assert similarity[0] == pytest.approx(1.0) and similarity[1] == pytest.approx(1.0)
    assert similarity[2] == 0.0 and similarity[3] == 0.0  # alone in its group, and no group


def test_diversity_pushes_restarts_apart(planted_cnn):  # noqa: F811
    def restart_similarity(result):
        first, second = result.restart_images[:, 0], result.restart_images[:, 1]
        return np.mean([np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(first, second)])

    many = replace(PLAIN, steps=60)
    _, plain = search_with(planted_cnn, "Conv2D_1", many, [0, 2, 3])
    _, apart = search_with(planted_cnn, "Conv2D_1", replace(many, diversity=2.0), [0, 2, 3])
    assert restart_similarity(apart) < restart_similarity(plain)


def test_blur_smooths_and_keeps_constants():
    images = noise(2, seed=8)
    blurred = gaussian_blur(images, 1.0)
    assert blurred.shape == images.shape and blurred.std() < 0.7 * images.std()
    np.testing.assert_allclose(gaussian_blur(np.ones((1, 5, 5, 1)), 1.0), 1.0)
    blur = regularisers.Blur(5, 0.5)
    assert [step for step in range(21) if blur.due(step, 20)] == [5, 10, 15]


# ---- the screen for every start, per-layer noise ----


def test_screening_every_start_screens_starts_that_fire_too(planted_cnn):  # noqa: F811
    _, zero = search_with(planted_cnn, "Conv2D_1", PLAIN, [0, 2, 3])
    _, every = search_with(planted_cnn, "Conv2D_1", OPTIONS["screen every"], [0, 2, 3])
    assert np.all(every.candidates == PLAIN.restarts * PLAIN.revival.candidates)
    assert np.all(zero.candidates == 0)  # no start of these maps is at zero
    # some firing starts lost to a candidate (climbed briefly: a higher first objective)
    replaced = every.histories[..., 0] != zero.histories[..., 0]
    assert replaced.any()
    assert np.all(every.histories[..., 0][replaced] > zero.histories[..., 0][replaced])


def test_per_layer_noise_changes_that_layers_starts_only(planted_cnn):  # noqa: F811
    search = OPTIONS["per-layer noise"]
    own = search_of_layer(search, "Conv2D_1")
    assert own.noise == settings.Noise((14, 28), (0.5, 0.5), {})
    assert search_of_layer(search, "Conv2D_2").noise == replace(PLAIN.noise, per_layer={})
    _, plain = search_with(planted_cnn, "Conv2D_2", PLAIN, [1])
    _, other = search_with(planted_cnn, "Conv2D_2", search, [1])
    np.testing.assert_array_equal(plain.restart_images, other.restart_images)
    _, changed = search_with(planted_cnn, "Conv2D_1", search, [2])
    _, before = search_with(planted_cnn, "Conv2D_1", PLAIN, [2])
    assert not np.allclose(changed.snapshots[:, 0], before.snapshots[:, 0])


def test_a_rules_params_carry_only_its_layers_noise():
    config = settings.keys_of(settings.OipSearch, _config_oip())
    config["noise"]["per_layer"] = {"Conv2D_1": {"scales": [14, 28], "factors": [0.5, 0.5]}}
    first = layer_search_config(config, "Conv2D_1")
    second = layer_search_config(config, "Conv2D_2")
    assert first["noise"] == {"scales": [14, 28], "factors": [0.5, 0.5], "per_layer": {}}
    assert first["strategy"]["stage_starts"] == [20]
    assert second["noise"]["scales"] == [3, 7, 14, 28] and second["noise"]["per_layer"] == {}
    assert second["strategy"] == config["strategy"]
    settings.build(settings.OipSearch, first)  # what the script rebuilds


def test_a_per_layer_noise_for_a_layer_the_model_lacks_is_one_line():
    search = replace(PLAIN, noise=replace(PLAIN.noise, per_layer={"Conv2D_9": PLAIN.noise}))
    with pytest.raises(CnnLensError, match="'Conv2D_9', which the model lacks") as raised:
        check_noise_layers(search, ["Conv2D_1", "Conv2D_2", "dense"])
    assert "\n" not in str(raised.value)
    check_noise_layers(OPTIONS["per-layer noise"], ["Conv2D_1", "Conv2D_2"])


@pytest.mark.pipeline
def test_the_dry_run_stops_at_a_per_layer_noise_of_a_layer_the_model_lacks(tmp_path):
    from conftest import make_workspace
    from test_faults import assert_one_line_error

    workspace = make_workspace(tmp_path)
    override = "oip={noise: {per_layer: {Conv2D_9: {scales: [14, 28], factors: [0.5, 0.5]}}}}"
    result = workspace.snakemake("-n", "--config", override, check=False)
    assert_one_line_error(result, "oip.noise.per_layer", "Conv2D_9", "lacks")


def _config_oip() -> dict:
    from cnnlens.configuration import validate_config
    from helpers import SCHEMA

    config: dict = {}
    validate_config(config, SCHEMA)
    return config["oip"]
