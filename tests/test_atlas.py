"""The atlas: top-k lists and class profiles (unit tests), and the tiny run's site: its top-k
lists against an independent recomputation from cnn.keras, the class OIPs, every link and
picture present, and the pages in headless Chromium."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest

from cnnlens.atlas.ranking import class_profile, most_active, top_indices

ATLAS = "results/atlas"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)


# ---- rankings (NumPy) ----


def test_top_indices_rank_highest_first_and_ties_by_lower_index() -> None:
    values = np.array([[1.0, 0.0], [3.0, 0.0], [3.0, 2.0], [2.0, 0.0]])
    np.testing.assert_array_equal(top_indices(values, 3), [[1, 2, 3], [2, 0, 1]])
    assert top_indices(values, 10).shape == (2, 4)
    np.testing.assert_array_equal(most_active(np.array([0.5, 2.0, 2.0, -1.0]), 2), [1, 2])


def test_class_profile_gives_means_and_firing_shares_per_class() -> None:
    values = np.array([[1.0, 0.0], [3.0, -1.0], [0.0, 2.0], [0.0, 4.0]])
    labels = np.array([0, 0, 1, 1])
    profile = class_profile(values, labels, classes=3)
    np.testing.assert_allclose(profile.mean, [[2.0, 0.0, 0.0], [-0.5, 3.0, 0.0]])
    np.testing.assert_allclose(profile.firing, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def test_reduce_units_finds_each_units_best_position() -> None:
    from cnnlens.atlas.readout import reduce_units

    values = np.zeros((2, 3, 4, 2), np.float32)
    values[0, 2, 1, 0] = 5.0
    values[1, 0, 3, 1] = 2.0
    mean, best, position = reduce_units(values)
    np.testing.assert_allclose(mean[0, 0], 5.0 / 12)
    np.testing.assert_allclose(best, [[5.0, 0.0], [0.0, 2.0]])
    assert tuple(position[0, 0]) == (2, 1) and tuple(position[1, 1]) == (0, 3)


def test_the_sheets_mark_dead_and_silent_units() -> None:
    from types import SimpleNamespace

    from cnnlens.atlas.pages import cell
    from cnnlens.atlas.site import environment

    network = SimpleNamespace(layers=[SimpleNamespace(name="conv"), SimpleNamespace(name="out")])
    network.layer = lambda name: SimpleNamespace(name=name)
    data = SimpleNamespace(
        network=network,
        tables={"conv": SimpleNamespace(top_value=np.array([[0.0], [0.0], [2.5]]),
                                        top_index=np.zeros((3, 1), int))},
        oips={"conv": SimpleNamespace(maps=np.arange(3), objective=np.array([0.0, 1.2, 3.4]),
                                      dead=np.array([True, False, False]))},
    )
    cells = [cell(data, None, "conv", unit, "") for unit in range(3)]
    assert [(c["dead"], c["silent"]) for c in cells] == [(True, True), (False, True),
                                                         (False, False)]
    assert cells[0]["note"] == "0; dead: no restart made it fire; silent on every test image"
    macros = environment().get_template("macros.html.j2").module
    html = str(macros.sheet({"cells": cells, "noun": "map", "name": "conv"}))
    classes = [part.split('"')[0] for part in html.split('class="cell')[1:]]
    assert classes == [" dead silent", " silent", ""]


# ---- a tiny colour model with a linear output: class names, colour pictures (no pipeline) ----

COLOUR_NAMES = ("cat", "Ankle boot", "T-shirt/top")
COLOUR_NETWORK = (
    {"kind": "conv", "name": "rgb_edges", "filters": 4, "kernel": 3, "activation": "relu"},
    {"kind": "max_pool", "name": "halve", "size": 2},
    {"kind": "flatten", "name": "flat"},
    {"kind": "dense", "name": "scores", "units": 3, "activation": "linear"},
)


def colour_search(layer: str, maps: int, side: int, restarts: int = 2, steps: int = 3):
    """A search result of colour OIPs (maps, restarts, side, side, 3) with made-up values."""
    from cnnlens.oip.results import SearchResult

    generator = np.random.default_rng(5)
    images = generator.normal(size=(maps, restarts, side, side, 3)).astype(np.float32)
    return SearchResult(
        layer=layer, maps=np.arange(maps), nodes=np.full((maps, 2), -1),
        restart_images=images, restart_objectives=generator.uniform(0.1, 1, (maps, restarts)),
        histories=np.zeros((maps, restarts, steps + 1), np.float32),
        snapshots=images[:, :2], snapshot_steps=np.array([0, steps]),
        converged_step=np.full((maps, restarts), -1), candidates=np.ones(maps, np.int64),
        revived=np.zeros((maps, restarts), bool), revival_steps=np.zeros(maps, np.int64),
        test_max=np.ones(maps, np.float32), test_p99=np.ones(maps, np.float32),
    )


@pytest.fixture(scope="module")
def colour_atlas(tmp_path_factory) -> Path:
    """The atlas of a 16x16x3 model whose last layer is linear (logits), with colour OIPs,
    node OIPs and class names, built by the library as the atlas job builds it."""
    from cnnlens.atlas import sources
    from cnnlens.atlas.readout import read_layers
    from cnnlens.atlas.records import unit_table
    from cnnlens.atlas.site import Look, build_site
    from cnnlens.model import build_cnn, describe

    model = build_cnn(COLOUR_NETWORK, (16, 16, 3))
    generator = np.random.default_rng(2)
    images = generator.normal(size=(30, 16, 16, 3)).astype(np.float32)
    labels = np.arange(30) % 3
    selected = [7, 2]
    readouts, probabilities = read_layers(model, images, ["rgb_edges", "scores"], selected)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)  # softmax of logits
    np.testing.assert_allclose(readouts[1].activation, np.asarray(model(images)), rtol=1e-4,
                               atol=1e-5)  # the linear output layer's values are its logits
    tables = {r.name: unit_table(r, selected, labels, 3, k=4) for r in readouts}
    data = sources.AtlasData(
        network=describe(model), tables=tables, test_images=sources.shown_images(images),
        labels=labels, probabilities=probabilities, class_names=COLOUR_NAMES,
        reasons={7: "clear cat (rank 1)", 2: "listed in config"},
        oips={"rgb_edges": colour_search("rgb_edges", 4, 16)}, node_layer="rgb_edges",
        node_oips={1: generator.normal(size=(2, 2, 16, 16, 3))},
        effects={"scores": {"0_vs_2": {2: {"effect_size": -1.5, "auc": 0.1}}}}, dreams={},
    )
    root = tmp_path_factory.mktemp("colour_atlas") / "atlas"
    build_site(data, root, Look(3, 2, "viridis", "jet", 80))
    return root


def test_colour_atlas_pictures_are_in_colour(colour_atlas) -> None:
    from PIL import Image

    def pixels(relative: str) -> np.ndarray:
        with Image.open(colour_atlas / relative) as picture:
            return np.asarray(picture.convert("RGB")).astype(int)

    thumbnail = pixels("images/test_00007.png")
    assert thumbnail.shape == (48, 48, 3)  # 16x16 enlarged 3 times
    pictures = ("images/test_00007.png", "rgb_edges/img/unit_000_oip.png",
                "rgb_edges/img/unit_000_oip_enhanced.png", "rgb_edges/img/unit_000_restarts.png",
                "rgb_edges/img/unit_001_nodes.png")
    for relative in pictures:
        picture = pixels(relative)
        spread = picture.max(axis=-1) - picture.min(axis=-1)
        assert (spread > 40).mean() > 0.3, relative  # many pixels far from grey
    with Image.open(colour_atlas / "rgb_edges/img/unit_000_evolution.gif") as gif:
        assert gif.n_frames == 2
        frame = np.asarray(gif.convert("RGB")).astype(int)
    assert (frame.max(axis=-1) - frame.min(axis=-1) > 40).mean() > 0.3


def test_colour_atlas_pages_name_the_classes(colour_atlas) -> None:
    image_page = (colour_atlas / "images/test_00007.html").read_text()
    for name in COLOUR_NAMES:
        assert f"<td>{name}</td>" in image_page  # every class's probability by name
    unit_page = (colour_atlas / "rgb_edges/unit_000.html").read_text()
    assert "<td>T-shirt/top</td>" in unit_page  # the class profile
    assert "label cat" in unit_page or "label Ankle boot" in unit_page
    output_page = (colour_atlas / "scores/unit_002.html").read_text()
    assert "scores node 2: class T-shirt/top" in output_page
    assert "cat vs T-shirt/top" in output_page  # the compared pair by name
    rows = read_rows(colour_atlas / "rgb_edges/top_images.csv")
    assert list(rows[0])[:6] == ["unit", "rank", "test_index", "activation", "label", "predicted"]
    assert {row["label_name"] for row in rows} <= set(COLOUR_NAMES)
    assert all(row["label_name"] == COLOUR_NAMES[int(row["label"])] for row in rows)
    _, missing = crawl(colour_atlas)
    assert not missing, missing[:10]


def test_display_range_follows_the_preprocessing() -> None:
    from cnnlens.atlas import imaging
    from cnnlens.preprocessing import Preprocessing

    assert imaging.display_range(Preprocessing("standardise")) == imaging.DISPLAY_RANGE
    assert imaging.display_range(Preprocessing("unit", 0, 255, 0.0, 1.0)) == (0.0, 1.0)
    assert imaging.scaled(np.array([0.0, 0.5, 1.0]), 0.0, 1.0).tolist() == [0, 128, 255]


# ---- the tiny run's atlas ----


def recomputed_activations(run) -> dict[str, np.ndarray]:
    """Independently of the library: every conv map's mean activation, every dense node's
    value, and the last layer's logits, on every test image, from cnn.keras."""
    import keras

    model = keras.models.load_model(run.path("results/model/cnn.keras"))
    images = np.load(run.path("results/data/test_imgs.npy"))
    values = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            output = keras.Model(model.inputs, layer.output).predict(images, verbose=0)
            values[layer.name] = output.mean(axis=(1, 2))
        elif isinstance(layer, keras.layers.Dense):
            if layer is model.layers[-1]:
                hidden = keras.Model(model.inputs, layer.input).predict(images, verbose=0)
                kernel, bias = layer.get_weights()
                values[layer.name] = hidden @ kernel + bias
            else:
                values[layer.name] = keras.Model(model.inputs, layer.output).predict(
                    images, verbose=0
                )
    return values


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.mark.pipeline
def test_top_k_lists_equal_an_independent_recomputation(tiny_run) -> None:
    k = 9
    for layer, values in recomputed_activations(tiny_run).items():
        rows = read_rows(tiny_run.path(f"{ATLAS}/{layer}/top_images.csv"))
        assert list(rows[0])[:4] == ["unit", "rank", "test_index", "activation"]
        assert len(rows) == values.shape[1] * k, layer
        for unit in range(values.shape[1]):
            mine = [row for row in rows if int(row["unit"]) == unit]
            assert [int(row["rank"]) for row in mine] == list(range(1, k + 1))
            listed = np.array([float(row["activation"]) for row in mine])
            indices = [int(row["test_index"]) for row in mine]
            expected = np.sort(values[:, unit])[::-1][:k]
            # the listed images have the listed activations, and they are the k highest
            np.testing.assert_allclose(values[indices, unit], listed, rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(listed, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.pipeline
def test_the_model_classifies_most_class_oips_as_their_class(tiny_run) -> None:
    """The tiny run climbs only 12 steps on a one-epoch model; the default run's figure (every
    class OIP classified as its class) is in the README."""
    import keras

    model = keras.models.load_model(tiny_run.path("results/model/cnn.keras"))
    oips = np.stack([
        np.load(tiny_run.path(f"results/oips/dense_1/map_{digit:03d}.npy")) for digit in range(10)
    ])[..., None]
    predicted = model.predict(oips, verbose=0).argmax(axis=1)
    assert (predicted == np.arange(10)).sum() >= 7, predicted


class Links(HTMLParser):
    """Every href and src of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag, attributes) -> None:
        for name, value in attributes:
            if name in ("href", "src") and value:
                self.targets.append(value)


def crawl(root: Path) -> tuple[set[Path], list[str]]:
    """Follow every link and picture from index.html: pages reached, targets missing."""
    start = root / "index.html"
    seen, queue, missing = {start}, [start], []
    while queue:
        page = queue.pop()
        parser = Links()
        parser.feed(page.read_text())
        for target in parser.targets:
            address = urlparse(target)
            if address.scheme or address.netloc:
                missing.append(f"{page}: external {target}")
                continue
            path = (page.parent / unquote(address.path)).resolve() if address.path else page
            if not path.is_file() or root.resolve() not in path.parents:
                missing.append(f"{page.relative_to(root)}: {target}")
            elif path.suffix == ".html" and path not in seen:
                seen.add(path)
                queue.append(path)
    return seen, missing


@pytest.mark.pipeline
def test_every_link_and_picture_of_the_atlas_resolves(tiny_run) -> None:
    root = tiny_run.path(ATLAS)
    pages, missing = crawl(root)
    assert not missing, missing[:10]
    units = sum(
        len(read_rows(root / layer / "top_images.csv")) // 9
        for layer in ("Conv2D_1", "Conv2D_2", "Conv2D_3", "dense", "dense_1")
    )
    unit_pages = [page for page in pages if page.name.startswith("unit_")]
    image_pages = [page for page in pages if page.parent.name == "images"]
    selected = read_rows(tiny_run.path("results/activations/examples.csv"))
    assert len(unit_pages) == units == 32 + 64 + 128 + 100 + 10
    assert len(image_pages) == len(selected)
    assert "<script" not in (root / "index.html").read_text()


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.pipeline
@pytest.mark.skipif(
    chromium() is None and not os.environ.get("CNNLENS_BROWSER"),
    reason="headless Chromium is not installed (apt-get install chromium; CI sets CNNLENS_BROWSER)",
)
@pytest.mark.parametrize("page", ["index.html", "Conv2D_1/unit_005.html", "images"])
def test_atlas_pages_open_in_chromium(tiny_run, tmp_path, page) -> None:
    from matplotlib.image import imread

    assert chromium(), "CNNLENS_BROWSER is set but chromium is not installed"
    root = tiny_run.path(ATLAS)
    path = root / page
    if page == "images":
        path = sorted((root / "images").glob("test_*.html"))[0]
    screenshot = tmp_path / "page.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1200,900",
             f"--screenshot={screenshot}", path.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
    pixels = imread(screenshot)[..., :3]
    assert pixels.shape[:2] == (900, 1200)
    # pictures drawn (many colours), not a blank or unstyled page
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 100
    assert pixels[:30].mean() < 0.5, "the dark navigation bar (the style sheet) is missing"
