"""The OIP search: restarts, screen, revival, dead maps, chunking, outputs, figures; and the
oip stage's files in the tiny pipeline run."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from helpers import SCHEMA
from test_optvis import (  # noqa: F401  (planted_cnn and colour_cnn are fixtures)
    RAW,
    UNIT,
    colour_cnn,
    colour_noise,
    noise,
    planted_cnn,
)

from cnnlens import settings
from cnnlens.configuration import validate_config
from cnnlens.errors import CnnLensError
from cnnlens.files import read_csv
from cnnlens.oip import results
from cnnlens.oip.search import LayerSearch, search_maps, search_nodes
from cnnlens.oip.similarity import restart_similarity
from cnnlens.oip.steps import check_search, log_snapshot_steps, snapshot_steps
from cnnlens.oip.targets import Targets
from cnnlens.plotting.oip import display_range_of, equalise, plot_layer, plot_node_layer

SEED = 11


def default_search() -> settings.OipSearch:
    """The search settings of the default config (the schema's defaults)."""
    config: dict = {}
    validate_config(config, SCHEMA)
    return settings.build(settings.OipSearch, settings.keys_of(settings.OipSearch, config["oip"]))


DEFAULT = default_search()
SETTINGS = replace(
    DEFAULT,
    restarts=2,
    steps=25,
    epsilon=0.05,
    snapshot_steps=(0, 5, 25),
    revival=replace(DEFAULT.revival, candidates=3, screen_steps=2, extra_steps=10),
    compute_dtype="float32",
)


def map_files(directory, maps, suffix: str) -> list[str]:
    return [f"{directory}/map_{int(k):03d}{suffix}" for k in maps]


@pytest.fixture(scope="module")
def search(planted_cnn):  # noqa: F811
    return LayerSearch(planted_cnn, "Conv2D_1", SETTINGS, SEED)


@pytest.fixture(scope="module")
def result(search):
    """Maps 0 (planted edge detector), 1 (dead: zero kernel, negative bias), 2..5."""
    return search.run(Targets("Conv2D_1", np.arange(6)), noise(40, seed=5))


def test_log_spaced_snapshots_by_default():
    assert log_snapshot_steps(400) == (0, 9, 18, 36, 72, 144, 288, 400)
    assert log_snapshot_steps(600)[-3:] == (288, 576, 600)
    assert snapshot_steps(DEFAULT) == log_snapshot_steps(DEFAULT.steps)
    assert snapshot_steps(SETTINGS) == (0, 5, 25)


def test_result_shapes(result):
    assert result.restart_images.shape == (6, 2, 28, 28)
    assert result.oips.shape == (6, 28, 28) and result.oips.dtype == np.float32
    assert result.histories.shape == (6, 2, 26)
    assert result.snapshots.shape == (6, 3, 28, 28)
    assert result.test_max.shape == result.test_p99.shape == (6,)
    np.testing.assert_allclose(result.oips.mean(axis=(1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(result.oips.std(axis=(1, 2)), 1, atol=1e-3)


def test_the_planted_map_beats_noise_and_the_dead_map_is_reported_dead(result):
    rows = {row["map"]: row for row in results.summary_rows(result)}
    assert rows[0]["status"] == "ok"
    assert float(rows[0]["objective"]) > 2 * float(rows[0]["test_max"])
    assert rows[0]["beats_test"] is True
    dead = rows[1]
    assert dead["status"] == "dead" and float(dead["objective"]) == 0
    # the tries are recorded: every restart screened, then the extra revival steps
    assert dead["candidates"] == SETTINGS.restarts * SETTINGS.revival.candidates
    assert dead["revival_steps"] == SETTINGS.revival.extra_steps
    assert dead["restart_similarity"] == dead["shifted_similarity"] == ""
    assert results.layer_counts(result)["dead"] == 1


def test_test_statistics_use_the_first_test_images(planted_cnn, search):  # noqa: F811
    images = noise(40, seed=5)
    fewer = LayerSearch(planted_cnn, "Conv2D_1", replace(SETTINGS, test_images=10), SEED)
    maps = np.array([0, 2])
    first_ten = search.test_statistics(maps, images[:10])
    np.testing.assert_array_equal(fewer.test_statistics(maps, images)[0], first_ten[0])
    assert not np.array_equal(search.test_statistics(maps, images)[1], first_ten[1])
    assert np.isnan(search.test_statistics(maps, None)[0]).all()


def test_seeding_does_not_depend_on_chunking(planted_cnn, search, result):  # noqa: F811
    parts = [search.run(Targets("Conv2D_1", maps)) for maps in (np.arange(3, 6), np.arange(3))]
    merged = results.SearchResult.concatenate(parts)
    np.testing.assert_array_equal(merged.maps, np.arange(6))
    np.testing.assert_allclose(merged.restart_images, result.restart_images, atol=1e-5)
    np.testing.assert_allclose(merged.histories, result.histories, rtol=1e-4, atol=1e-6)
    smaller_batches = LayerSearch(planted_cnn, "Conv2D_1", replace(SETTINGS, batch_size=5), SEED)
    rerun = smaller_batches.run(Targets("Conv2D_1", np.arange(6)))
    np.testing.assert_allclose(rerun.restart_images, result.restart_images, atol=1e-5)


def test_save_load_and_layer_outputs(result, tmp_path):
    result.save(tmp_path / "chunk.npz")
    loaded = results.SearchResult.load(tmp_path / "chunk.npz")
    np.testing.assert_array_equal(loaded.restart_images, result.restart_images)
    assert loaded.layer == "Conv2D_1"
    maps = map_files(tmp_path, loaded.maps, ".npy")
    results.save_layer(loaded, maps, tmp_path / "summary.csv")
    array = np.load(maps[0])
    assert array.shape == (28, 28) and array.dtype == np.float32
    rows = read_csv(tmp_path / "summary.csv")
    assert list(rows[0]) == list(results.SUMMARY_COLUMNS)
    assert [row["status"] for row in rows] == ["ok", "dead", "ok", "ok", "ok", "ok"]
    with pytest.raises(CnnLensError, match="do not cover"):
        results.save_layer(loaded, maps[:-1], tmp_path / "summary.csv")
    assert results.gather_chunks([tmp_path / "chunk.npz"]).maps.tolist() == list(range(6))


def test_figures_are_written(result, tmp_path):
    two = results.SearchResult.concatenate([result])
    maps = map_files(tmp_path, two.maps, ".png")
    evolutions = map_files(tmp_path, two.maps, "_evolution.png")
    plot_layer(two, maps, evolutions, tmp_path / "sheet.png")
    for path in [*maps, *evolutions, tmp_path / "sheet.png"]:
        assert (tmp_path / path).stat().st_size > 1000


def test_equalise_spreads_values_evenly():
    image = np.exp(np.linspace(0, 5, 100)).reshape(10, 10)
    np.testing.assert_allclose(np.sort(equalise(image).ravel()), np.linspace(0, 1, 100))


def test_node_oips_have_one_image_per_position(planted_cnn, tmp_path):  # noqa: F811
    brief = replace(SETTINGS, steps=5, snapshot_steps=(0, 5))
    result = search_nodes(planted_cnn, "Conv2D_3", [4, 2], brief, SEED)
    grids = results.node_grids(result)
    assert [map_index for map_index, _, _ in grids] == [4, 2]
    assert grids[0][1].shape == (3, 3, 28, 28) and grids[0][2].shape == (3, 3)
    arrays = map_files(tmp_path, [4, 2], ".npy")
    results.save_nodes(result, arrays, tmp_path / "summary.csv")
    assert np.load(arrays[1]).shape == (3, 3, 28, 28)
    rows = read_csv(tmp_path / "summary.csv")
    assert len(rows) == 18 and rows[0]["node"] == "0,0" and rows[-1]["node"] == "2,2"
    figures = map_files(tmp_path, [4, 2], ".png")
    plot_node_layer(result, figures)
    assert all((tmp_path / path).stat().st_size > 1000 for path in figures)


def test_staged_strategy_adds_scales_along_the_way(planted_cnn):  # noqa: F811
    staged = replace(
        SETTINGS,
        strategy=settings.Strategy("staged", (5, 10)),
        noise=settings.Noise((3, 14, 28), (1.0, 0.5, 0.5), {}),
    )
    result = LayerSearch(planted_cnn, "Conv2D_1", staged, SEED).run(Targets("Conv2D_1", [0]))
    assert result.histories.shape == (1, 2, 26)
    assert np.all(result.objective > result.histories[:, :, 0].max())
    # the first stage starts from long-range noise only: smooth
    start = result.snapshots[0, 0]
    assert np.corrcoef(start[:, :-1].ravel(), start[:, 1:].ravel())[0, 1] > 0.8
    with pytest.raises(CnnLensError, match="stage_starts"):
        check_search(replace(staged, strategy=settings.Strategy("staged", (5,))))


def test_settings_that_do_not_fit_are_refused():
    check_search(DEFAULT)
    with pytest.raises(CnnLensError, match="snapshot_steps"):
        check_search(replace(SETTINGS, snapshot_steps=(0, 26)))
    with pytest.raises(CnnLensError, match="noise"):
        check_search(replace(SETTINGS, noise=settings.Noise((3, 7), (0.5,), {})))


def test_similarity_of_restarts():
    image = np.random.default_rng(0).normal(size=(28, 28))
    images = np.stack([np.stack([image, image, -image]), np.stack([image, 2 * image, image])])
    alive = np.array([[True, True, True], [True, False, False]])
    similarity = restart_similarity(images, alive)
    assert similarity[0] == pytest.approx((1 - 1 - 1) / 3)
    assert np.isnan(similarity[1])
    moved = np.stack([np.stack([image, np.roll(image, 3, axis=1)])])
    assert restart_similarity(moved, np.ones((1, 2), bool))[0] < 0.3
    assert restart_similarity(moved, np.ones((1, 2), bool), max_shift=3)[0] == pytest.approx(1)
    colour = np.random.default_rng(1).normal(size=(16, 16, 3))
    swapped = np.roll(colour, 1, axis=-1)  # each channel's values in another channel
    pairs = np.stack([np.stack([colour, 3 * colour]), np.stack([colour, swapped])])
    similarity = restart_similarity(pairs, np.ones((2, 2), bool))
    assert similarity[0] == pytest.approx(1) and abs(similarity[1]) < 0.2


def test_unknown_maps_are_refused(planted_cnn):  # noqa: F811
    with pytest.raises(CnnLensError, match="out of range"):
        search_maps(planted_cnn, "Conv2D_1", [31, 32], SETTINGS, SEED)
    with pytest.raises(CnnLensError, match="out of range"):
        search_nodes(planted_cnn, "Conv2D_3", [128], SETTINGS, SEED)


# ---- colour models and bounded input ranges ----


@pytest.fixture(scope="module")
def colour_result(colour_cnn):  # noqa: F811
    """OIPs of the colour CNN's hue maps 0 (red), 1 (green), 2 (blue) and 3 (random)."""
    searcher = LayerSearch(colour_cnn, "hue", SETTINGS, SEED)
    return searcher.run(Targets("hue", np.arange(4)), colour_noise(30, seed=6))


def channel_means(images: np.ndarray) -> np.ndarray:
    """(..., 3): each image's mean value per channel."""
    return images.mean(axis=(-3, -2))


def test_colour_oips_are_colour_and_show_their_maps_colour(colour_result):
    assert colour_result.restart_images.shape == (4, 2, 16, 16, 3)
    assert colour_result.oips.shape == (4, 16, 16, 3)
    assert colour_result.snapshots.shape == (4, 3, 16, 16, 3)
    # standardised over all pixels and channels together
    np.testing.assert_allclose(colour_result.oips.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(colour_result.oips.std(axis=(1, 2, 3)), 1, atol=1e-3)
    means = channel_means(colour_result.oips[:3])
    for colour in range(3):  # the red map's OIP is red, the green map's green, ...
        others = np.delete(means[colour], colour)
        assert means[colour, colour] > others.max() + 1.0, means
    rows = {row["map"]: row for row in results.summary_rows(colour_result)}
    assert all(rows[k]["beats_test"] is True for k in range(3))
    assert float(rows[0]["restart_similarity"]) > 0.2  # both restarts red: alike


def test_colour_oips_are_saved_and_drawn_in_colour(colour_result, tmp_path):
    maps = map_files(tmp_path, colour_result.maps, ".npy")
    results.save_layer(colour_result, maps, tmp_path / "summary.csv")
    assert np.load(maps[0]).shape == (16, 16, 3)
    figures = map_files(tmp_path, colour_result.maps, ".png")
    evolutions = map_files(tmp_path, colour_result.maps, "_evolution.png")
    plot_layer(colour_result, figures, evolutions, tmp_path / "sheet.png")
    from PIL import Image

    for path in [figures[0], evolutions[0], tmp_path / "sheet.png"]:
        pixels = np.asarray(Image.open(path).convert("RGB"), np.int64)
        red = (pixels[..., 0] > 180) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)
        assert red.sum() > 50, path  # the red map's OIP shows red


@pytest.mark.parametrize("preprocessing", [UNIT, RAW])
def test_bounded_ranges_keep_oips_inside_them(colour_cnn, preprocessing):  # noqa: F811
    staged = replace(SETTINGS, strategy=settings.Strategy("staged", (5, 10, 15)))
    for search in (SETTINGS, staged):
        searcher = LayerSearch(colour_cnn, "hue", search, SEED, preprocessing)
        found = searcher.run(Targets("hue", [0, 1]))
        low, high = preprocessing.low, preprocessing.high
        assert low <= found.restart_images.min() and found.restart_images.max() <= high
        assert low <= found.snapshots.min() and found.snapshots.max() <= high
        assert np.all(found.objective > 0)
        means = channel_means(found.oips) / (high - low)
        assert means[0, 0] > means[0, 1] + 0.3 and means[1, 1] > means[1, 0] + 0.3


def test_grey_oips_in_a_bounded_range_stay_grey_and_inside_it(planted_cnn, tmp_path):  # noqa: F811
    found = LayerSearch(planted_cnn, "Conv2D_1", SETTINGS, SEED, UNIT).run(Targets("Conv2D_1", [0]))
    assert found.oips.shape == (1, 28, 28)
    assert 0 <= found.restart_images.min() and found.restart_images.max() <= 1
    assert found.objective[0] > 0
    assert display_range_of(UNIT) == (0.0, 1.0) and display_range_of(None) == (-3.0, 3.0)
    paths = [tmp_path / "map.png"], [tmp_path / "evolution.png"]
    plot_layer(found, *paths, tmp_path / "sheet.png", display_range=display_range_of(UNIT))
    assert (tmp_path / "sheet.png").stat().st_size > 1000


def test_colour_node_oips(colour_cnn, tmp_path):  # noqa: F811
    brief = replace(SETTINGS, steps=5, snapshot_steps=(0, 5))
    result = search_nodes(colour_cnn, "texture", [1], brief, SEED, UNIT)
    ((map_index, images, values),) = results.node_grids(result)
    assert map_index == 1
    assert images.shape == (5, 5, 16, 16, 3) and values.shape == (5, 5)
    assert 0 <= images.min() and images.max() <= 1
    plot_node_layer(result, [tmp_path / "nodes.png"])
    assert (tmp_path / "nodes.png").stat().st_size > 1000


# ---- the oip stage in the tiny pipeline run ----


@pytest.mark.pipeline
def test_pipeline_writes_every_maps_oip(tiny_run):
    layer_directory = tiny_run.path("results/oips/Conv2D_1")
    rows = read_csv(layer_directory / "summary.csv")
    assert [int(row["map"]) for row in rows] == list(range(32))
    assert set(rows[0]) == set(results.SUMMARY_COLUMNS)
    for k in range(32):
        assert np.load(layer_directory / f"map_{k:03d}.npy").shape == (28, 28)
        assert (layer_directory / f"map_{k:03d}.png").is_file()
        assert (layer_directory / f"map_{k:03d}_evolution.png").is_file()
    assert (layer_directory / "sheet.png").is_file()
    assert sorted(path.name for path in (layer_directory / "chunks").iterdir()) == [
        "maps_000-019.npz",
        "maps_020-031.npz",
    ]
    nodes = np.load(tiny_run.path("results/oips/Conv2D_3/nodes/map_005.npy"))
    assert nodes.shape == (3, 3, 28, 28)
