"""The dream stage: photos (reading, grey, refusing bad files), resampling and lost detail, the
three kinds of dream on the shared ascent engine, and the rules on the tiny pipeline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnlens import dream
from cnnlens.errors import CnnLensError
from cnnlens.photos import (
    MIN_SIDE,
    cap_size,
    default_photo,
    load_photo,
    photo_name,
    photo_table,
    read_grey,
)


# --------------------------------------------------------------------------------------------
# Fixtures: a seeded CNN with the study's architecture, and a small synthetic photo
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cnn():
    """The study's CNN with seeded random weights (the ascent must work on any ReLU CNN)."""
    import keras

    from cnnlens.model import build_cnn

    keras.utils.set_random_seed(7)
    return build_cnn()


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A 60x48 standardised 'photo': a bright disc and a dark bar on a horizontal gradient, with
    some grain (like a real photo: no flat areas, whose ties in max pooling would make the
    gradient depend on rounding)."""
    rows, columns = np.mgrid[0:60, 0:48]
    disc = (rows - 25) ** 2 + (columns - 20) ** 2 < 120
    bar = (rows > 40) & (rows < 46)
    grain = np.random.default_rng(11).normal(scale=0.1, size=rows.shape)
    image = columns / 48.0 + 2.0 * disc - 1.5 * bar + grain
    return ((image - image.mean()) / image.std()).astype(np.float32)


def save_image(path: Path, array: np.ndarray) -> Path:
    """Save an array as an image file (format from the suffix)."""
    Image.fromarray(array).save(path)
    return path


# --------------------------------------------------------------------------------------------
# Photos
# --------------------------------------------------------------------------------------------


def test_default_photo_ships_with_matplotlib() -> None:
    table = photo_table([])
    assert list(table) == ["grace_hopper"]
    assert Path(table["grace_hopper"]) == default_photo()
    photo = load_photo(default_photo(), max_side=100)
    assert max(photo.shape) == 100
    assert abs(float(photo.mean())) < 1e-5 and abs(float(photo.std()) - 1) < 1e-4


def test_photo_names_are_safe_and_unique(tmp_path: Path) -> None:
    assert photo_name("/some/dir/my photo.v2.png") == "my_photo_v2"
    with pytest.raises(CnnLensError, match=r"a/rose\.jpg and b/rose\.png .* 'rose'"):
        photo_table(["a/rose.jpg", "b/rose.png"])


def test_colour_becomes_grey_by_luminance(tmp_path: Path) -> None:
    red = np.zeros((32, 32, 3), np.uint8)
    red[..., 0] = 255
    assert np.allclose(read_grey(save_image(tmp_path / "red.png", red)), 0.299 * 255, atol=0.01)
    transparent = np.zeros((32, 32, 4), np.uint8)
    assert np.allclose(read_grey(save_image(tmp_path / "clear.png", transparent)), 255)
    deep = np.arange(32 * 32, dtype=np.uint16).reshape(32, 32) * 60
    assert np.array_equal(read_grey(save_image(tmp_path / "deep.png", deep)), deep)


def test_large_photos_are_capped_keeping_their_shape() -> None:
    capped = cap_size(np.random.default_rng(0).random((90, 120), np.float32), max_side=60)
    assert capped.shape == (45, 60)


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("notes.jpg", b"these are not pixels", "is not an image file"),
        ("broken.png", "truncated", "cannot be read"),
        ("tiny.png", np.full((20, 100), 128, np.uint8), f"too small.*at least {MIN_SIDE}"),
        ("flat.png", np.full((40, 40), 128, np.uint8), "single flat grey value"),
        ("missing.png", None, "cannot be read"),
    ],
)
def test_bad_photo_files_stop_with_a_message_naming_the_file(
    tmp_path: Path, name: str, content, expected: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, np.ndarray):
        save_image(path, content)
    elif content == "truncated":
        save_image(path, np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8))
        path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CnnLensError, match=expected) as caught:
        load_photo(path, max_side=600)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


# --------------------------------------------------------------------------------------------
# Resampling, lost detail, octaves, metrics helpers
# --------------------------------------------------------------------------------------------


def test_putting_the_lost_detail_back_restores_the_original(photo: np.ndarray) -> None:
    shrunk = dream.resize(photo[np.newaxis], (28, 28))
    assert shrunk.shape == (1, 28, 28)
    assert np.allclose(dream.with_detail(shrunk, photo)[0], photo, atol=1e-5)
    assert np.abs(dream.lost_detail(photo, (28, 28))).max() > 0.1


def test_octaves_grow_to_the_photo_and_never_below_the_view() -> None:
    assert dream.octave_shapes((600, 512), 3, 2.0) == [(150, 128), (300, 256), (600, 512)]
    assert dream.octave_shapes((40, 30), 4, 2.0) == [(28, 28), (40, 30)]


def test_range_adjustment_and_correlation(photo: np.ndarray) -> None:
    adjusted = dream.adjust_range(np.stack([photo, -photo * 3 + 1]))
    assert adjusted.min() == 0 and adjusted.max() == 1
    correlation = dream.correlation_with(adjusted, photo)
    assert correlation[0] == pytest.approx(1, abs=0.02)
    assert correlation[1] == pytest.approx(-1, abs=0.02)


def test_best_oip_maps_skip_dead_maps() -> None:
    rows = [
        {"map": "3", "status": "converged", "objective": "4.5"},
        {"map": "9", "status": "dead", "objective": "9.0"},
        {"map": "1", "status": "max_steps", "objective": "7.25"},
        {"map": "5", "status": "converged", "objective": "0"},
    ]
    assert dream.top_oip_maps(rows, 2) == [1, 3]
    assert dream.top_oip_maps(rows, 10) == [1, 3]
    assert dream.top_oip_maps(rows, 0) == []


def test_oips_of_the_dreamed_maps_are_read_from_the_oip_stage(tmp_path: Path) -> None:
    paths = [str(tmp_path / f"map_{index:03d}.npy") for index in range(3)]
    for index, path in enumerate(paths):
        np.save(path, np.full((28, 28), index, np.float32))
    oips = dream.map_oips(paths, [2, 0])
    assert oips.shape == (2, 28, 28) and oips[0, 0, 0] == 2 and oips[1, 0, 0] == 0
    assert dream.map_oips([], [2, 0]) is None


def test_settings_refuse_to_dream_nothing() -> None:
    with pytest.raises(CnnLensError, match="no map to dream with"):
        dream.SingleMapSettings.from_config(
            {"layer": "Conv2D_3", "maps": [], "rounds": 1, "steps": 1, "epsilon": 0.01}
        )
    climb = {"steps": 1, "epsilon": 0.01, "max_shift": 0}
    with pytest.raises(CnnLensError, match="dream.layers.weights"):
        dream.LayerDreamSettings.from_config(
            {"weights": {"Conv2D_3": 0}, "octaves": 2, "octave_scale": 1.5, **climb}
        )
    with pytest.raises(CnnLensError, match="dream.fine has nothing"):
        dream.FineDreamSettings.from_config({"weights": {}, "maps": [], **climb}, "Conv2D_3")
    fine = dream.FineDreamSettings.from_config(
        {"weights": {"Conv2D_3": 1, "Conv2D_2": 0}, "maps": [7, 7, 32], **climb}, "Conv2D_3"
    )
    assert fine.render_names == ["layers", "map_007", "map_032"]


# --------------------------------------------------------------------------------------------
# The fully convolutional conv part and the ascent
# --------------------------------------------------------------------------------------------


def test_fully_convolutional_part_matches_the_model_on_28x28(cnn) -> None:
    import keras

    from cnnlens.ascent import AscentEngine

    engine = AscentEngine(cnn, ["Conv2D_3"], input_shape=(None, None, 1))
    original = keras.Model(cnn.inputs, cnn.get_layer("Conv2D_3").output)
    images = np.random.default_rng(3).normal(size=(4, 28, 28, 1)).astype(np.float32)
    expected = original.predict(images, verbose=0)
    assert expected.shape == (4, 3, 3, 128)
    assert np.allclose(np.maximum(engine.model.predict(images, verbose=0), 0), expected, atol=1e-5)
    # on a larger image, the window of the first 28x28 pixels gives the first 3x3 positions
    large = np.random.default_rng(4).normal(size=(1, 56, 60, 1)).astype(np.float32)
    maps = np.maximum(engine.model.predict(large, verbose=0), 0)
    assert maps.shape == (1, 10, 11, 128)
    window = original.predict(large[:, :28, :28], verbose=0)
    assert np.allclose(maps[:, :3, :3], window, atol=1e-5)


def test_unshifted_climb_is_the_engines_own_loop(cnn, photo: np.ndarray) -> None:
    from cnnlens import ascent

    engine = ascent.AscentEngine(cnn, ["Conv2D_3"], input_shape=(None, None, 1))
    objective = ascent.map_objective(engine, "Conv2D_3", [3, 5])
    start = np.repeat(dream.as_batch(photo[np.newaxis]), 2, axis=0)
    images, history = dream.shifted_ascent(
        engine, start, objective, dream.Climb(4, 0.02, 0), np.random.default_rng(0)
    )
    reference = ascent.run_ascent(engine, start, objective, ascent.AscentSettings(4, 0.02))
    assert np.allclose(images, reference.images, atol=1e-5)
    assert np.allclose(history, reference.history, rtol=1e-5, atol=1e-7)


def test_single_map_dreams_raise_every_maps_objective(cnn, photo: np.ndarray) -> None:
    settings = dream.SingleMapSettings("Conv2D_3", (0, 1, 2, 3, 4, 5), 2, 10, 0.02)
    dreams = dream.single_map_dreams(cnn, photo, settings)
    assert dreams.small.shape == (6, 28, 28)
    assert dreams.blurred.shape == dreams.final.shape == (6, *photo.shape)
    assert 0 <= dreams.final.min() and dreams.final.max() <= 1
    assert np.all(dreams.objective_after > dreams.objective_before)
    assert np.all(dreams.objective_rounds[:, -1] >= dreams.objective_rounds[:, 0])
    assert np.all(dreams.correlation > 0.5)
    # a map dreamed alone gives the same result as in the batch
    alone_settings = dream.SingleMapSettings("Conv2D_3", (3,), 2, 10, 0.02)
    alone = dream.single_map_dreams(cnn, photo, alone_settings)
    assert np.allclose(alone.final[0], dreams.final[3], atol=1e-4)


def test_layer_dream_raises_the_layer_objective(cnn, photo: np.ndarray) -> None:
    settings = dream.LayerDreamSettings(
        {"Conv2D_2": 1.0, "Conv2D_3": 1.0}, 2, 1.5, dream.Climb(10, 0.02, 3)
    )
    result = dream.layer_dream(cnn, photo, settings, np.random.default_rng(0))
    assert [octave.shape for octave in result.octaves] == [(40, 32), photo.shape]
    assert result.final.shape == photo.shape
    assert result.objective_after > result.objective_before
    assert all(after > before for before, after in result.objective_octaves)
    assert result.correlation > 0.5
    record = dream.layer_metrics(result, "synthetic.png", settings).record()
    assert record["raised"] and record["objective_gain"] > 0
    json.dumps(record)


def test_fine_dreams_raise_their_objectives_with_random_shifts(cnn, photo: np.ndarray) -> None:
    settings = dream.FineDreamSettings(
        {"Conv2D_3": 1.0}, "Conv2D_3", (0, 1), dream.Climb(10, 0.02, 5)
    )
    result = dream.fine_dreams(cnn, photo, settings, np.random.default_rng(0))
    assert result.names == ["layers", "map_000", "map_001"]
    assert result.final.shape == (3, *photo.shape)
    assert result.history.shape == (3, 11)
    assert np.all(result.objective_after > result.objective_before)
    assert np.all(result.correlation > 0.5)
    again = dream.fine_dreams(cnn, photo, settings, np.random.default_rng(0))
    assert np.array_equal(again.final, result.final)


# --------------------------------------------------------------------------------------------
# The rules, on the tiny pipeline
# --------------------------------------------------------------------------------------------

DREAMS = "results/dreams/grace_hopper"


@pytest.mark.pipeline
def test_tiny_run_renders_all_three_kinds(tiny_run) -> None:
    from cnnlens.files import read_csv

    photo_png = Image.open(tiny_run.path(f"{DREAMS}/photo.png"))
    assert max(photo_png.size) == 64  # tiny config: max_side 64
    # tiny config: Conv2D_1 map 9 and the map with the best OIP
    best = dream.top_oip_maps(read_csv(tiny_run.path("results/oips/Conv2D_1/summary.csv")), 1)
    maps = sorted(path.name for path in tiny_run.path(f"{DREAMS}/maps").glob("map_*"))
    assert maps == sorted({"map_009", dream.map_name(best[0])})
    for render in [*(f"maps/{name}" for name in maps), "layers", "fine/layers", "fine/map_009"]:
        metrics = json.loads(tiny_run.path(f"{DREAMS}/{render}/metrics.json").read_text())
        assert metrics["raised"], render
        assert metrics["objective_after"] > metrics["objective_before"]
        assert metrics["correlation_with_photo"] > 0.5, render
        assert Image.open(tiny_run.path(f"{DREAMS}/{render}/dream.png")).size == photo_png.size
    for figure in (
        "maps/map_009/row.png", "maps/overview.png", "layers/octaves.png", "fine/overview.png"
    ):
        assert tiny_run.path(f"{DREAMS}/{figure}").stat().st_size > 5000


@pytest.mark.pipeline
def test_a_new_photo_runs_only_its_own_dreams(tiny_run) -> None:
    extra = tiny_run.path("extra photo.png")
    rows, columns = np.mgrid[0:80, 0:70]
    save_image(extra, ((np.sin(rows / 6) + np.cos(columns / 9)) * 60 + 128).astype(np.uint8))
    photos = f"[{default_photo()}, {extra}]"
    result = tiny_run.snakemake("--dry-run", "--config", f"dream={{photos: {photos}}}")
    jobs = set(re.findall(r"^(?:local)?rule (\w+):", result.stdout, flags=re.MULTILINE))
    assert jobs - {"all"} == {"dream_fine", "dream_layers", "dream_maps", "dream_photo"}
    assert "photo=extra_photo" in result.stdout
    assert "photo=grace_hopper" not in result.stdout


@pytest.mark.pipeline
def test_a_bad_photo_stops_its_job_naming_the_file(fresh_workspace) -> None:
    bad = fresh_workspace.path("holiday.jpg")
    bad.write_text("not a photo")
    result = fresh_workspace.snakemake(
        "results/dreams/holiday/photo.png", "--config", f"dream={{photos: [{bad}]}}",
        check=False,
    )
    assert result.returncode != 0
    assert f"the photo {bad} is not an image file" in result.stdout + result.stderr
    assert not fresh_workspace.path("results/dreams/holiday/photo.npy").exists()


def test_render_files(cnn, photo: np.ndarray, tmp_path: Path) -> None:
    from cnnlens.plotting.dream import write_fine_renders, write_map_renders

    settings = dream.SingleMapSettings("Conv2D_3", (3, 5), 1, 3, 0.02)
    dreams = dream.single_map_dreams(cnn, photo, settings)
    records = dream.single_map_metrics(dreams, "synthetic.png", settings)
    write_map_renders(tmp_path / "maps", photo, dreams, records, np.zeros((2, 28, 28)))
    for name in ("map_003", "map_005"):
        assert Image.open(tmp_path / "maps" / name / "dream.png").size == (48, 60)
        assert json.loads((tmp_path / "maps" / name / "metrics.json").read_text())["raised"]
    assert (tmp_path / "maps" / "overview.png").stat().st_size > 5000
    fine_settings = dream.FineDreamSettings({}, "Conv2D_3", (3,), dream.Climb(3, 0.02, 2))
    fine = dream.fine_dreams(cnn, photo, fine_settings, np.random.default_rng(0))
    fine_records = dream.fine_metrics(fine, "synthetic.png", fine_settings)
    paths = [tmp_path / "fine.png", tmp_path / "fine.json", tmp_path / "fine_overview.png"]
    write_fine_renders([paths[0]], [paths[1]], paths[2], photo, fine, fine_records)
    assert all(path.stat().st_size > 0 for path in paths)
