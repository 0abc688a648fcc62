"""The attribution stage: on a planted model every method points at the planted pattern,
integrated gradients add up, deletion curves of a good method fall faster than random ones,
and the stage runs in the tiny pipeline."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from cnnlens import settings
from cnnlens.attribution import images as imaging
from cnnlens.attribution.deletion import area, curve_rows, fractions, summary_rows
from cnnlens.attribution.maps import map_rows, ranked_maps
from cnnlens.attribution.records import METHODS, RANDOM, explained_classes
from cnnlens.blur import gaussian_blur
from cnnlens.network import Layer
from cnnlens.preprocessing import Preprocessing

SIZE = 16
SQUARE = (slice(4, 8), slice(4, 8))  # where the planted pattern is
AROUND = (slice(3, 9), slice(3, 9))  # the square and the pixels its detector's windows touch
UNIT = Preprocessing("unit", shift=0.0, scale=1.0, low=0.0, high=1.0)
METHOD_SETTINGS = settings.Attribution(
    smoothgrad_samples=16,
    smoothgrad_noise=0.1,
    integrated_gradients_steps=64,
    blur_sigma=2.0,
    deletion_images=8,
    deletion_step=0.05,
    top_maps=2,
)


def planted_model(channels: int = 1, activation: str = "softmax"):
    """Map 0 of ``conv`` fires on bright 3x3 windows (mean > 0.5), map 1 never; class 1's
    logit reads map 0 only at the square's place, class 0's is constant."""
    import keras

    model = keras.Sequential([
        keras.Input((SIZE, SIZE, channels)),
        keras.layers.Conv2D(2, 3, activation="relu", name="conv"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(2, activation=activation, name="out"),
    ])
    kernel = np.zeros((3, 3, channels, 2), np.float32)
    kernel[..., 0] = 1.0 / (9 * channels)
    model.get_layer("conv").set_weights([kernel, np.array([-0.5, -1.0], np.float32)])
    reading = np.zeros((SIZE - 2, SIZE - 2, 2), np.float32)
    reading[3:7, 3:7, 0] = 3.0  # the conv units whose windows overlap the square
    dense = np.zeros((reading.size, 2), np.float32)
    dense[:, 1] = reading.reshape(-1)
    model.get_layer("out").set_weights([dense, np.array([0.0, -5.0], np.float32)])
    return model


def planted_images(count: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Dim noise, the bright square, and a bright thin line elsewhere that no map sees."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.0, 0.25, (count, SIZE, SIZE, channels)).astype(np.float32)
    images[:, SQUARE[0], SQUARE[1]] = 1.0
    for image, row in zip(images, rng.integers(10, 15, count)):
        image[row, 2:14] = 1.0
    return images


def attributor(model, settings_=METHOD_SETTINGS):
    from cnnlens.attribution import stage

    return stage.attributor_for(model, "conv", settings_, UNIT, seed=3)


@pytest.fixture(scope="module")
def grey_attributor():
    return attributor(planted_model())


@pytest.mark.parametrize("channels", [1, 3])
def test_every_method_points_at_the_planted_square(channels, grey_attributor) -> None:
    engine = grey_attributor if channels == 1 else attributor(planted_model(channels))
    images = planted_images(4, channels)
    result = engine.attribute(images, np.ones(4, np.int32))
    assert set(result.relevance) == set(METHODS)
    for method, relevance in result.relevance.items():
        assert relevance.shape == (4, SIZE, SIZE), method
        inside = np.abs(relevance[:, AROUND[0], AROUND[1]]).sum(axis=(1, 2))
        total = np.abs(relevance).sum(axis=(1, 2))
        assert np.all(inside > 0.8 * total), (method, inside / total)
        peaks = np.unravel_index(np.abs(relevance).reshape(4, -1).argmax(axis=1), (SIZE, SIZE))
        assert np.all((peaks[0] >= 3) & (peaks[0] < 9) & (peaks[1] >= 3) & (peaks[1] < 9)), method
    # from the class back to the maps: the detector map, never the dead one
    assert np.all(result.map_scores[:, 0] > 0) and np.all(result.map_scores[:, 1] == 0)


def test_integrated_gradients_add_up_to_the_logit_difference(grey_attributor) -> None:
    from cnnlens.attribution.scores import logits_of

    images = planted_images(3)
    result = grey_attributor.attribute(images, np.ones(3, np.int32))
    black = imaging.black_baseline(images, UNIT)
    blurred = gaussian_blur(images, 2.0)
    for name, baseline in (("black", black), ("blurred", blurred)):
        difference = logits_of(grey_attributor.scores, images)[:, 1] - logits_of(
            grey_attributor.scores, baseline
        )[:, 1]
        total = result.relevance[f"integrated_gradients_{name}"].sum(axis=(1, 2))
        np.testing.assert_allclose(total, difference, rtol=0.05, atol=0.05)
        assert np.all(np.abs(difference) > 1)


def test_the_class_score_is_the_logit_for_softmax_and_linear_outputs(grey_attributor) -> None:
    linear = attributor(planted_model(activation="linear"))
    images = planted_images(2)
    classes = np.ones(2, np.int32)
    first = grey_attributor.attribute(images, classes)
    second = linear.attribute(images, classes)
    np.testing.assert_allclose(first.logits, second.logits, rtol=1e-6)
    np.testing.assert_allclose(first.relevance["saliency"], second.relevance["saliency"],
                               rtol=1e-5, atol=1e-7)


def test_explained_images_carry_both_classes_and_ranked_maps(grey_attributor) -> None:
    from cnnlens.attribution import stage

    images = planted_images(3)
    selected = stage.explain_selected(grey_attributor, images, np.array([7, 2, 5]),
                                      np.array([1, 1, 0]))
    np.testing.assert_array_equal(selected.classes, [[1, 0]] * 3)
    assert selected.relevance["grad_cam"].shape == (3, 2, SIZE, SIZE)
    np.testing.assert_allclose(selected.probabilities.sum(axis=1), 1, rtol=1e-5)
    rows = map_rows(selected, ("zero", "one"))
    assert len(rows) == 3 * 2 * 2
    first = rows[0]
    assert (first["test_index"], first["role"], first["class_name"], first["map"]) == (
        7, "predicted", "one", 0)
    assert first["atlas_page"] == "results/atlas/conv/unit_000.html"
    assert selected.position(5) == 2


def test_deletion_of_the_best_method_beats_random_deletion(grey_attributor) -> None:
    from cnnlens.attribution import stage

    curves = stage.deletion_study(grey_attributor, planted_images(8, seed=4), 0.05, seed=1)
    assert set(curves) == {*METHODS, RANDOM}
    points = fractions(0.05)
    for values in curves.values():
        assert values.shape == (21, 8)
        assert np.all((values >= 0) & (values <= 1))
        np.testing.assert_allclose(values[0], curves[RANDOM][0])  # nothing deleted yet
    areas = {name: area(points, values.mean(axis=1)) for name, values in curves.items()}
    best = min(areas[name] for name in METHODS)
    assert best < 0.5 * areas[RANDOM], areas
    # the square is 16 of 256 pixels: deleting the 10 % most attributed takes it away
    assert curves["integrated_gradients_black"][2].mean() < 0.5 * curves[RANDOM][2].mean()


def test_deletion_rows_have_the_documented_columns(tmp_path) -> None:
    from cnnlens.files import write_csv

    rng = np.random.default_rng(0)
    curves = {"saliency": rng.random((21, 5)), RANDOM: rng.random((21, 5))}
    path = tmp_path / "deletion.csv"
    write_csv(path, curve_rows(curves, 0.05))
    with open(path) as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == ["method", "fraction", "probability"]
    assert [float(row["fraction"]) for row in rows[:21]] == pytest.approx(np.arange(21) * 0.05)
    assert {row["method"] for row in rows} == {"saliency", RANDOM}
    summary = summary_rows(curves, 0.05)
    assert float(summary[0]["area"]) == pytest.approx(
        np.trapezoid(curves["saliency"].mean(axis=1), np.arange(21) * 0.05), abs=1e-4
    )


def test_fractions_end_at_one() -> None:
    np.testing.assert_allclose(fractions(0.25), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(fractions(0.3), [0, 0.3, 0.6, 0.9, 1])


def test_grad_cam_lands_on_the_receptive_field_centres() -> None:
    layer = Layer("Conv2D_3", "conv", (3, 3, 128), "relu", receptive_field=18, stride=4, offset=0)
    values = np.zeros((1, 3, 3), np.float32)
    values[0, 0, 2] = 1.0
    on_input = imaging.to_input_pixels(values, layer, (28, 28, 1))
    assert on_input.shape == (1, 28, 28)
    row, column = np.unravel_index(on_input[0].argmax(), (28, 28))
    assert row <= 8 and column >= 17  # unit (0, 2) sees rows 0-17 and columns 8-25
    np.testing.assert_allclose(on_input[0, 8, 25], 1.0)


def test_baselines() -> None:
    images = planted_images(2) * 3 - 1
    black = imaging.black_baseline(images, Preprocessing("standardise"))
    np.testing.assert_allclose(black[:, 0, 0, 0], images.min(axis=(1, 2, 3)))
    assert np.ptp(black[0]) == 0
    np.testing.assert_allclose(imaging.black_baseline(images, UNIT), 0)
    blurred = gaussian_blur(images, 2.0)
    assert blurred.std() < images.std()
    np.testing.assert_allclose(blurred.mean(axis=(1, 2, 3)), images.mean(axis=(1, 2, 3)),
                               rtol=0.05)
    np.testing.assert_allclose(gaussian_blur(images, 0.0), images, rtol=1e-6)


def test_pixel_ranks_put_the_most_relevant_first() -> None:
    relevance = np.array([[[0.1, 0.9], [0.5, 0.5]]])
    ranks = imaging.pixel_ranks(relevance, np.random.default_rng(0))
    assert ranks[0, 1] == 0 and ranks[0, 0] == 3 and set(ranks[0, 2:]) == {1, 2}
    assert list(ranked_maps(np.array([0.2, 3.0, -1.0]))) == [1, 0, 2]
    np.testing.assert_array_equal(explained_classes(np.array([[0.1, 0.6, 0.3]])), [[1, 2]])


def test_figure_of_a_colour_image_of_any_size(tmp_path) -> None:
    from cnnlens.attribution.records import SelectedAttributions, load_selected, save_selected
    from cnnlens.plotting.attribution import plot_image_attributions
    from matplotlib.image import imread

    rng = np.random.default_rng(0)
    relevance = {name: rng.normal(size=(2, 2, 20, 24)).astype(np.float32) for name in METHODS}
    selected = SelectedAttributions(
        layer="conv", indices=np.array([3, 11]), labels=np.array([1, 2]),
        images=rng.normal(size=(2, 20, 24, 3)).astype(np.float32),
        classes=np.array([[1, 2], [2, 0]]),
        probabilities=np.array([[0.1, 0.6, 0.3], [0.2, 0.1, 0.7]], np.float32),
        relevance=relevance, map_scores=rng.normal(size=(2, 2, 6)).astype(np.float32),
    )
    save_selected(tmp_path / "selected.npz", selected)
    loaded = load_selected(tmp_path / "selected.npz")
    assert loaded.layer == "conv" and loaded.position(11) == 1
    np.testing.assert_array_equal(loaded.relevance["grad_cam"], relevance["grad_cam"])
    path = tmp_path / "test_11.png"
    plot_image_attributions(loaded, 11, ("cat", "dog", "bird"), 3, path)
    assert imread(path).shape[1] > 600
    with_oips = tmp_path / "with_oips.png"
    oips = list(rng.normal(size=(6, 20, 24, 3)).astype(np.float32))
    plot_image_attributions(loaded, 11, ("cat", "dog", "bird"), 7, with_oips, oips)
    # a row of 7 OIPs under each class's row: wider and taller than without
    assert imread(with_oips).shape[0] > 1.5 * imread(path).shape[0]
    assert imread(with_oips).shape[1] > imread(path).shape[1]


@pytest.mark.pipeline
def test_tiny_run_attributes_the_selected_images(tiny_run) -> None:
    from cnnlens.files import read_csv

    tiny_run.snakemake("attribution_summary")
    directory = tiny_run.path("results/attribution")
    examples = read_csv(tiny_run.path("results/activations/examples.csv"))
    for row in examples:
        assert (directory / "images" / f"test_{row['index']}.png").stat().st_size > 10_000
    with open(directory / "deletion.csv") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == ["method", "fraction", "probability"]
    assert {row["method"] for row in rows} == {*METHODS, RANDOM}
    assert len(rows) == 6 * 21
    assert all(0 <= float(row["probability"]) <= 1 for row in rows)
    maps = read_csv(directory / "maps.csv")
    assert {int(row["test_index"]) for row in maps} == {int(row["index"]) for row in examples}
    assert maps[0]["atlas_page"].startswith("results/atlas/Conv2D_3/unit_")
    assert (directory / "deletion.png").exists() and (directory / "index.md").exists()
