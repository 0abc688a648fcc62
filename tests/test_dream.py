"""The dream stage: photos (reading, grey, refusing bad files), resampling and lost detail, the
three kinds of dream on the shared ascent engine, and the rules on the tiny pipeline."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from helpers import study_cnn
from test_optvis import UNIT, colour_cnn  # noqa: F401  (colour_cnn is a fixture)

from cnnlens.dream import display, imaging, names, oip_maps, records
from cnnlens.dream.full_size import fine_dreams
from cnnlens.dream.octaves import layer_dream
from cnnlens.dream.single_map import single_map_dreams
from cnnlens.errors import CnnLensError
from cnnlens.optvis import objectives
from cnnlens.optvis.engine import AscentEngine
from cnnlens.optvis.render import render
from cnnlens.optvis.transforms import RandomRoll
from cnnlens.photos import cap_size, load_photo, read_grey
from cnnlens.plan import photo_lookup, photo_name, photo_table
from cnnlens.plotting.dream import plot_fine, plot_map_dreams, plot_octaves
from cnnlens.sample_photo import photo_file as default_photo
from cnnlens.settings import FineDream, LayerDream, SingleMap

#: The study's CNN sees 28x28 images: photos must be at least that large.
MIN_SIDE = 28
VIEW = (28, 28)


@pytest.fixture(scope="module")
def cnn():
    """The study's CNN with seeded random weights (the ascent must work on any ReLU CNN)."""
    import keras

    keras.utils.set_random_seed(7)
    return study_cnn()


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


def test_default_photo_ships_with_matplotlib() -> None:
    table = photo_table([])
    assert list(table) == ["grace_hopper"]
    assert Path(table["grace_hopper"].file) == default_photo()
    photo = load_photo(default_photo(), max_side=100, min_side=MIN_SIDE)
    assert max(photo.shape) == 100
    assert abs(float(photo.mean())) < 1e-5 and abs(float(photo.std()) - 1) < 1e-4


def test_dreams_record_photos_as_configured_not_where_an_install_put_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photos").mkdir()
    for name in ("photos/cat.png", "dog.png"):
        save_image(tmp_path / name, np.zeros((8, 8), np.uint8))
    labels = photo_lookup(photo_table(["photos/cat.png", "~/dog.png", str(default_photo())]),
                          "label")
    assert [labels(SimpleNamespace(photo=name)) for name in ("cat", "dog", "grace_hopper")] == [
        "photos/cat.png",
        "~/dog.png",
        "matplotlib's sample photo grace_hopper.jpg",  # listed or not: the same
    ]
    assert photo_table([])["grace_hopper"].label == "matplotlib's sample photo grace_hopper.jpg"
    assert photo_table(["~/dog.png"])["dog"].file == str(tmp_path / "dog.png")


def test_the_sample_photo_is_no_input_so_another_environment_reruns_nothing(tmp_path) -> None:
    own = save_image(tmp_path / "own.png", np.zeros((8, 8), np.uint8))
    find = photo_lookup(photo_table([str(default_photo()), str(own)]), "input")
    assert find(SimpleNamespace(photo="grace_hopper")) == []
    assert find(SimpleNamespace(photo="own")) == str(own)


def test_photo_names_are_safe_and_unique(tmp_path: Path) -> None:
    assert photo_name("/some/dir/my photo.v2.png") == "my_photo_v2"
    roses = [tmp_path / "a" / "rose.jpg", tmp_path / "b" / "rose.png"]
    for rose in roses:
        rose.parent.mkdir()
        rose.write_bytes(b"")
    with pytest.raises(CnnLensError, match=r"a/rose\.jpg and .*b/rose\.png .* 'rose'"):
        photo_table([str(rose) for rose in roses])


def test_colour_becomes_grey_by_luminance(tmp_path: Path) -> None:
    red = np.zeros((32, 32, 3), np.uint8)
    red[..., 0] = 255
    assert np.allclose(read_grey(save_image(tmp_path / "red.png", red)), 0.299 * 255, atol=0.01)
    transparent = np.zeros((32, 32, 4), np.uint8)
    assert np.allclose(read_grey(save_image(tmp_path / "clear.png", transparent)), 255)
    deep = np.arange(32 * 32, dtype=np.uint16).reshape(32, 32) * 60
    read = read_grey(save_image(tmp_path / "deep.png", deep))  # 16 bits brought to 0..255
    np.testing.assert_allclose(read, deep / 257.0, rtol=1e-6)


def test_large_photos_are_capped_keeping_their_shape() -> None:
    capped = cap_size(
        np.random.default_rng(0).random((90, 120), np.float32), max_side=60, min_side=MIN_SIDE
    )
    assert capped.shape == (45, 60)
    narrow = cap_size(np.ones((30, 600), np.float32), max_side=60, min_side=MIN_SIDE)
    assert narrow.shape == (MIN_SIDE, 60)


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
        load_photo(path, max_side=600, min_side=MIN_SIDE)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_putting_the_lost_detail_back_restores_the_original(photo: np.ndarray) -> None:
    shrunk = imaging.resize(photo[np.newaxis], VIEW)
    assert shrunk.shape == (1, *VIEW)
    assert np.allclose(imaging.with_detail(shrunk, photo)[0], photo, atol=1e-5)
    assert np.abs(imaging.lost_detail(photo, VIEW)).max() > 0.1


def test_octaves_grow_to_the_photo_and_never_below_the_view() -> None:
    shapes = imaging.octave_shapes((600, 512), 3, 2.0, VIEW)
    assert shapes == [(150, 128), (300, 256), (600, 512)]
    assert imaging.octave_shapes((40, 30), 4, 2.0, VIEW) == [(28, 28), (40, 30)]
    assert imaging.octave_shapes((40, 30), 4, 2.0, (12, 20)) == [(12, 20), (20, 20), (40, 30)]


def test_the_view_is_the_models_input_size(cnn) -> None:
    assert imaging.view_shape(cnn) == VIEW


def test_range_adjustment_and_correlation(photo: np.ndarray) -> None:
    adjusted = display.adjust_range(np.stack([photo, -photo * 3 + 1]))
    assert adjusted.min() == 0 and adjusted.max() == 1
    correlation = imaging.correlation_with(adjusted, photo)
    assert correlation[0] == pytest.approx(1, abs=0.02)
    assert correlation[1] == pytest.approx(-1, abs=0.02)


def test_best_oip_maps_skip_dead_maps() -> None:
    rows = [
        {"map": "3", "status": "converged", "objective": "4.5"},
        {"map": "9", "status": "dead", "objective": "9.0"},
        {"map": "1", "status": "max_steps", "objective": "7.25"},
        {"map": "5", "status": "converged", "objective": "0"},
    ]
    assert oip_maps.top_oip_maps(rows, 2) == [1, 3]
    assert oip_maps.top_oip_maps(rows, 10) == [1, 3]
    assert oip_maps.top_oip_maps(rows, 0) == []
    with pytest.raises(CnnLensError, match="lacks the columns"):
        oip_maps.top_oip_maps([{"map": "3"}], 1)


def test_oips_of_the_dreamed_maps_are_read_from_the_oip_stage(tmp_path: Path) -> None:
    paths = [str(tmp_path / f"map_{index:03d}.npy") for index in range(3)]
    for index, path in enumerate(paths):
        np.save(path, np.full((28, 28), index, np.float32))
    oips = oip_maps.map_oips(paths, [2, 0], VIEW)
    assert oips.shape == (2, 28, 28) and oips[0, 0, 0] == 2 and oips[1, 0, 0] == 0
    assert oip_maps.map_oips([], [2, 0], VIEW) is None


def test_dreaming_nothing_is_refused(cnn, photo: np.ndarray) -> None:
    nothing = SingleMap("Conv2D_3", (), 0, 1, 1, 0.01)
    with pytest.raises(CnnLensError, match="no map to dream with"):
        single_map_dreams(cnn, photo, nothing, [])
    unweighted = LayerDream({"Conv2D_3": 0}, 2, 1.5, 1, 0.01, 0)
    with pytest.raises(CnnLensError, match="dream.layers.weights"):
        layer_dream(cnn, photo, unweighted, np.random.default_rng(0))
    empty = FineDream({}, (), 1, 0.01, 0)
    with pytest.raises(CnnLensError, match="dream.fine has nothing"):
        fine_dreams(cnn, photo, empty, "Conv2D_3", np.random.default_rng(0))


def test_render_names_and_map_lists() -> None:
    fine = FineDream({"Conv2D_3": 1, "Conv2D_2": 0}, (7, 7, 32), 1, 0.01, 0)
    assert names.fine_render_names(fine) == ["layers", "map_007", "map_032"]
    maps_only = FineDream({"Conv2D_3": 0}, (5,), 1, 0.01, 0)
    assert names.fine_render_names(maps_only) == ["map_005"]
    single_map = SingleMap("Conv2D_3", (7, 3), 2, 1, 1, 0.01)
    assert names.single_map_maps(single_map, [3, 9]) == (7, 3, 9)


def test_fully_convolutional_part_matches_the_model_on_28x28(cnn) -> None:
    import keras

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
    engine = AscentEngine(cnn, ["Conv2D_3"], input_shape=(None, None, 1))
    objective = objectives.channels("Conv2D_3", [3, 5])
    start = np.repeat(imaging.as_batch(photo[np.newaxis]), 2, axis=0)
    unrolled = RandomRoll(0, np.random.default_rng(0))
    rolled = render(engine, start, objective, steps=4, epsilon=0.02, transforms=[unrolled])
    reference = render(engine, start, objective, steps=4, epsilon=0.02)
    assert np.allclose(rolled.images, reference.images, atol=1e-5)
    assert np.allclose(rolled.history, reference.history, rtol=1e-5, atol=1e-7)


def test_single_map_dreams_raise_every_maps_objective(cnn, photo: np.ndarray) -> None:
    single_map = SingleMap("Conv2D_3", (0, 1, 2, 3), 0, 2, 10, 0.02)
    dreams = single_map_dreams(cnn, photo, single_map, [4, 5, 3])
    assert dreams.maps == (0, 1, 2, 3, 4, 5)
    assert dreams.small.shape == (6, *VIEW)
    assert dreams.blurred.shape == dreams.final.shape == (6, *photo.shape)
    assert 0 <= dreams.final.min() and dreams.final.max() <= 1
    assert np.all(dreams.objective_after > dreams.objective_before)
    assert np.all(dreams.objective_rounds[:, -1] >= dreams.objective_rounds[:, 0])
    assert np.all(dreams.correlation > 0.5)
    # a map dreamed alone gives the same result as in the batch
    alone = single_map_dreams(cnn, photo, SingleMap("Conv2D_3", (3,), 0, 2, 10, 0.02))
    assert np.allclose(alone.final[0], dreams.final[3], atol=1e-4)
    record = records.single_map_metrics(dreams, "synthetic.png", single_map)[4].record()
    assert record["details"]["map"] == 4 and record["details"]["settings"]["maps"] == [
        0, 1, 2, 3, 4, 5
    ]
    assert "shrunk to 28x28" in record["details"]["measured_on"]


def test_layer_dream_raises_the_layer_objective(cnn, photo: np.ndarray) -> None:
    layers = LayerDream({"Conv2D_2": 1.0, "Conv2D_3": 1.0, "Conv2D_1": 0}, 2, 1.5, 10, 0.02, 3)
    result = layer_dream(cnn, photo, layers, np.random.default_rng(0))
    assert [octave.shape for octave in result.octaves] == [(40, 32), photo.shape]
    assert result.final.shape == photo.shape
    assert result.objective_after > result.objective_before
    assert all(after > before for before, after in result.objective_octaves)
    assert result.correlation > 0.5
    record = records.layer_metrics(result, "synthetic.png", layers).record()
    assert record["raised"] and record["objective_gain"] > 0
    assert "Conv2D_1" not in record["objective"]
    assert record["details"]["settings"]["climb"] == {"steps": 10, "epsilon": 0.02, "max_shift": 3}
    json.dumps(record)


def test_fine_dreams_raise_their_objectives_with_random_shifts(cnn, photo: np.ndarray) -> None:
    fine = FineDream({"Conv2D_3": 1.0}, (0, 1), 10, 0.02, 5)
    result = fine_dreams(cnn, photo, fine, "Conv2D_3", np.random.default_rng(0))
    assert result.names == ["layers", "map_000", "map_001"]
    assert result.final.shape == (3, *photo.shape)
    assert result.history.shape == (3, 11)
    assert np.all(result.objective_after > result.objective_before)
    assert np.all(result.correlation > 0.5)
    again = fine_dreams(cnn, photo, fine, "Conv2D_3", np.random.default_rng(0))
    assert np.array_equal(again.final, result.final)
    other_shifts = fine_dreams(cnn, photo, fine, "Conv2D_3", np.random.default_rng(1))
    assert not np.array_equal(other_shifts.final, result.final)


DREAMS = "results/dreams/grace_hopper"


@pytest.mark.pipeline
def test_tiny_run_renders_all_three_kinds(tiny_run) -> None:
    from cnnlens.files import read_csv

    photo_png = Image.open(tiny_run.path(f"{DREAMS}/photo.png"))
    assert max(photo_png.size) == 64  # tiny config: max_side 64
    # tiny config: Conv2D_1 map 9 and the map with the best OIP
    summary = read_csv(tiny_run.path("results/oips/Conv2D_1/summary.csv"))
    best = oip_maps.top_oip_maps(summary, 1)
    maps = sorted(path.name for path in tiny_run.path(f"{DREAMS}/maps").glob("map_*"))
    assert maps == sorted({"map_009", names.map_name(best[0])})
    renders = [*(f"maps/{name}" for name in maps), "layers", "fine/layers", "fine/map_009"]
    for render_name in renders:
        metrics = json.loads(tiny_run.path(f"{DREAMS}/{render_name}/metrics.json").read_text())
        assert metrics["raised"], render_name
        assert metrics["objective_after"] > metrics["objective_before"]
        assert metrics["correlation_with_photo"] > 0.5, render_name
        dream_png = Image.open(tiny_run.path(f"{DREAMS}/{render_name}/dream.png"))
        assert dream_png.size == photo_png.size
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
    # the new photo's dreams, and the atlas, which shows every photo's dreams
    expected = {"dream_fine", "dream_layers", "dream_maps", "dream_photo", "atlas_site"}
    assert jobs - {"all"} == expected
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
    # the quiet console (profiles/default) names the failed job and shows the end of its log
    log = "results/logs/dream_photo/holiday.log"
    assert re.search(rf"^FAILED: dream_photo photo=holiday \(job \d+\); log: {log}\n"
                     rf"---- {log}\n(.*\n)*.* ERROR cnnlens: the photo ", result.stderr,
                     flags=re.MULTILINE)


def test_figures_only_draw(cnn, photo: np.ndarray, tmp_path: Path) -> None:
    single_map = SingleMap("Conv2D_3", (3,), 0, 1, 3, 0.02)
    dreams = single_map_dreams(cnn, photo, single_map, [5])
    renders = records.single_map_metrics(dreams, "synthetic.png", single_map)
    plot_map_dreams(tmp_path / "maps", photo, dreams, renders, np.zeros((2, *VIEW)))
    for name in ("map_003", "map_005"):
        assert (tmp_path / "maps" / name / "row.png").stat().st_size > 5000
    assert (tmp_path / "maps" / "overview.png").stat().st_size > 5000
    layers = LayerDream({"Conv2D_3": 1.0}, 2, 1.5, 2, 0.02, 2)
    octaves = layer_dream(cnn, photo, layers, np.random.default_rng(0))
    plot_octaves(photo, octaves, records.layer_metrics(octaves, "synthetic.png", layers),
                 tmp_path / "octaves.png")
    fine = FineDream({}, (3,), 3, 0.02, 2)
    full = fine_dreams(cnn, photo, fine, "Conv2D_3", np.random.default_rng(0))
    plot_fine(photo, full, records.fine_metrics(full, "synthetic.png", fine, "Conv2D_3"),
              tmp_path / "fine.png")
    written = {path.suffix for path in tmp_path.rglob("*") if path.is_file()}
    assert written == {".png"}
    assert (tmp_path / "octaves.png").stat().st_size > 0
    assert (tmp_path / "fine.png").stat().st_size > 0


def test_render_files(cnn, photo: np.ndarray, tmp_path: Path) -> None:
    single_map = SingleMap("Conv2D_3", (3, 5), 0, 1, 3, 0.02)
    dreams = single_map_dreams(cnn, photo, single_map)
    for index, final, record in zip(
        dreams.maps, dreams.final, records.single_map_metrics(dreams, "synthetic.png", single_map)
    ):
        image = tmp_path / names.map_name(index) / "dream.png"
        display.save_png(final, image)
        assert Image.open(image).size == (48, 60)
        assert json.loads(json.dumps(record.record()))["raised"]
    grey = np.asarray(Image.open(tmp_path / "map_003" / "dream.png"))
    assert np.array_equal(grey, np.round(dreams.final[0] * 255).astype(np.uint8))


# ---- colour photos through a colour model ----


@pytest.fixture(scope="module")
def colour_photo() -> np.ndarray:
    """A 40x36 colour 'photo' (0..255): a red disc, a green bar, a blue gradient, grain."""
    rows, columns = np.mgrid[0:40, 0:36]
    disc = (rows - 15) ** 2 + (columns - 12) ** 2 < 60
    grain = np.random.default_rng(12).normal(scale=8, size=(40, 36, 3))
    image = np.stack([200.0 * disc, 180.0 * ((rows > 28) & (rows < 33)), columns * 6.0], -1)
    return np.clip(image + 30 + grain, 0, 255).astype(np.float32)


def test_colour_photos_are_read_in_colour_and_checked_against_the_model(
    tmp_path, colour_cnn  # noqa: F811
):
    array = np.zeros((40, 30, 3), np.uint8)
    array[..., 0], array[:20, :, 2] = 200, 90
    path = save_image(tmp_path / "colour.png", array)
    photo = load_photo(path, max_side=600, min_side=16, channels=3)
    assert photo.shape == (40, 30, 3)
    np.testing.assert_allclose(photo.mean(), 0, atol=1e-5)  # standardised over all channels
    assert photo[..., 0].mean() > photo[..., 1].mean() + 1
    unit = load_photo(path, max_side=20, min_side=16, channels=3, preprocessing=UNIT)
    assert unit.shape == (20, 16, 3) and 0 <= unit.min() and unit.max() <= 1
    assert unit[..., 0].mean() == pytest.approx(200 / 255, abs=0.02)
    grey = load_photo(path, max_side=600, min_side=16)
    with pytest.raises(CnnLensError, match="1 channel.* takes 3"):
        single_map_dreams(colour_cnn, grey, SingleMap("hue", (0,), 0, 1, 2, 0.02))


@pytest.mark.parametrize("preprocessing", [None, UNIT])
def test_colour_dreams_are_colour_and_change_the_photo(
    colour_cnn, colour_photo, preprocessing, tmp_path  # noqa: F811
) -> None:
    from cnnlens.preprocessing import Preprocessing

    photo = (preprocessing or Preprocessing("standardise")).from_photo(colour_photo)
    single_map = SingleMap("hue", (0, 1), 0, 2, 10, 0.05)
    maps = single_map_dreams(colour_cnn, photo, single_map, preprocessing=preprocessing)
    assert maps.small.shape == (2, 16, 16, 3) and maps.final.shape == (2, 40, 36, 3)
    assert np.all(maps.objective_after > maps.objective_before)
    if preprocessing is not None:
        assert 0 <= maps.small.min() and maps.small.max() <= 1
    # the green map's dream is greener than the red map's
    assert maps.final[1, ..., 1].mean() > maps.final[0, ..., 1].mean()
    layers = LayerDream({"texture": 1.0}, 2, 1.5, 10, 0.05, 2)
    octaves = layer_dream(colour_cnn, photo, layers, np.random.default_rng(0), preprocessing)
    assert [octave.shape for octave in octaves.octaves] == [(27, 24, 3), (40, 36, 3)]
    assert octaves.objective_after > octaves.objective_before
    fine = FineDream({}, (0, 2), 10, 0.05, 3)
    full = fine_dreams(
        colour_cnn, photo, fine, "hue", np.random.default_rng(0), preprocessing
    )
    assert full.final.shape == (2, 40, 36, 3)
    assert np.all(full.objective_after > full.objective_before)
    for result in (maps.final, octaves.final[np.newaxis], full.final):
        assert np.all(imaging.correlation_with(result, photo) < 0.999)  # changed
        assert np.all(imaging.correlation_with(result, photo) > 0.2)  # still the photo
    renders = records.single_map_metrics(maps, "colour.png", single_map)
    plot_map_dreams(tmp_path / "maps", photo, maps, renders, np.zeros((2, 16, 16, 3)))
    plot_octaves(photo, octaves, records.layer_metrics(octaves, "colour.png", layers),
                 tmp_path / "octaves.png")
    plot_fine(photo, full, records.fine_metrics(full, "colour.png", fine, "hue"),
              tmp_path / "fine.png")
    display.save_png(maps.final[0], tmp_path / "dream.png")
    assert np.asarray(Image.open(tmp_path / "dream.png")).shape == (40, 36, 3)
    row = np.asarray(Image.open(tmp_path / "maps" / "map_000" / "row.png").convert("RGB"))
    assert np.abs(row[..., 0].astype(int) - row[..., 2]).max() > 100  # drawn in colour


def test_max_side_must_reach_the_models_input() -> None:
    from cnnlens.network import from_architecture
    from cnnlens.plan import check_max_side
    from helpers import default_architecture

    large = from_architecture(default_architecture(), (64, 48, 3))
    check_max_side(64, large)
    with pytest.raises(CnnLensError, match=r"dream.max_side 60 .*\(64x48x3\).*at least 64"):
        check_max_side(60, large)
