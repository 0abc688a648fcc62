"""Issue 11 through the real ``snakemake`` command: Fashion-MNIST with the default CNN, and a
colour model written elsewhere (its own layer names, input size and channels) dropped in with
``model.file`` on the user's own ``.npz`` data, through every stage."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import Workspace, make_workspace
from test_datasets import PACKAGE_ROUTE_UNAVAILABLE

pytestmark = pytest.mark.pipeline

FASHION_TEST_LABELS_SHA256 = "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9"
COLOUR_CLASSES = ["red", "green", "blue", "yellow"]
COLOUR_SIDE = 32
COLOUR_LAYERS = ("edge_detector", "texture_block")


# ---- Fashion-MNIST, the tiny configuration ----


@pytest.fixture(scope="module")
def fashion_run(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The whole tiny pipeline on Fashion-MNIST with configs/fashion_mnist.yaml."""
    if PACKAGE_ROUTE_UNAVAILABLE and not os.environ.get("CNNLENS_FASHION"):
        pytest.skip(f"Fashion-MNIST cannot be fetched here: {PACKAGE_ROUTE_UNAVAILABLE}")
    workspace = make_workspace(tmp_path_factory.mktemp("fashion_run"))
    # the README's Fashion-MNIST config, then the tiny sizes over it
    workspace.snakemake(config_files=("configs/fashion_mnist.yaml", "tests/tiny_config.yaml"))
    return workspace


def test_fashion_mnist_is_the_verified_data_set_with_its_class_names(fashion_run) -> None:
    manifest = json.loads(fashion_run.path("results/data/manifest.json").read_text())
    assert manifest["dataset"] == "fashion_mnist"
    assert manifest["class_names"][0] == "T-shirt/top"
    assert manifest["class_names"][9] == "Ankle boot"
    assert FASHION_TEST_LABELS_SHA256 in json.dumps(manifest)
    labels = np.load(fashion_run.path("results/data/y_test.npy"))
    assert len(labels) == 300 and set(np.unique(labels)) <= set(range(10))


def test_fashion_accuracy_is_recomputed_from_the_files(fashion_run) -> None:
    from cnnlens.model import load_cnn

    metrics = json.loads(fashion_run.path("results/model/metrics.json").read_text())
    model = load_cnn(fashion_run.path("results/model/cnn.keras"))
    images = np.load(fashion_run.path("results/data/test_imgs.npy"))
    labels = np.load(fashion_run.path("results/data/y_test.npy"))
    predicted = model.predict(images, verbose=0).argmax(axis=1)
    assert metrics["test_accuracy"] == pytest.approx(float((predicted == labels).mean()), abs=1e-6)


def test_fashion_figures_and_pages_name_the_classes(fashion_run) -> None:
    with open(fashion_run.path("results/activations/examples.csv")) as stream:
        text = stream.read()
    assert "Shirt" in text and "T-shirt/top" in text  # the pair of configs/fashion_mnist.yaml
    separation = fashion_run.path("results/activations/compare/6_vs_0/separation.csv").read_text()
    assert "Shirt" in separation
    atlas = "".join(page.read_text() for page in fashion_run.path("results/atlas").rglob("*.html"))
    assert "Ankle boot" in atlas


# ---- a colour model of the user's own, on the user's own .npz ----


def colour_images(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """32x32 RGB uint8 images: a blob of its class's colour at a random place on dim noise."""
    generator = np.random.default_rng(seed)
    colours = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]], dtype=np.float32)
    labels = generator.integers(0, len(colours), size=count)
    images = generator.uniform(0, 60, size=(count, COLOUR_SIDE, COLOUR_SIDE, 3))
    for image, label in zip(images, labels, strict=True):
        top, left = generator.integers(0, COLOUR_SIDE - 10, size=2)
        image[top : top + 10, left : left + 10] = colours[label] * generator.uniform(0.7, 1.0)
    return images.astype(np.uint8), labels.astype(np.int64)


def colour_model_file(directory: Path, train_images: np.ndarray, train_labels: np.ndarray) -> Path:
    """A functional Keras model with its own layer names, trained briefly, saved as .keras."""
    import keras

    keras.utils.set_random_seed(3)
    inputs = keras.Input(shape=(COLOUR_SIDE, COLOUR_SIDE, 3), name="picture")
    x = keras.layers.Conv2D(8, 3, activation="relu", name=COLOUR_LAYERS[0])(inputs)
    x = keras.layers.MaxPooling2D(2, name="shrink")(x)
    x = keras.layers.Conv2D(12, 3, activation="relu", name=COLOUR_LAYERS[1])(x)
    x = keras.layers.MaxPooling2D(2, name="shrink_more")(x)
    x = keras.layers.Flatten(name="as_vector")(x)
    x = keras.layers.Dropout(0.1, name="forgetful")(x)
    outputs = keras.layers.Dense(len(COLOUR_CLASSES), activation="softmax", name="colour")(x)
    model = keras.Model(inputs, outputs, name="someone_elses_cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train_images / 255.0, train_labels, epochs=4, batch_size=32, verbose=0)
    path = directory / "someone_elses_cnn.keras"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Every stage for the colour model, with the tiny search and dream settings and no layer
    named anywhere in the config."""
    workspace = make_workspace(tmp_path_factory.mktemp("colour_run"))
    x_train, y_train = colour_images(400, seed=1)
    x_test, y_test = colour_images(120, seed=2)
    data_file = workspace.path("colours.npz")
    np.savez(data_file, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    model_file = colour_model_file(workspace.root, x_train, y_train)
    own = {
        "data": {
            "dataset": "npz",
            "file": str(data_file),
            "class_names": COLOUR_CLASSES,
            "subset": {"train": None, "test": None},
        },
        "model": {"file": str(model_file), "preprocessing": "unit"},
        "activations": {
            "layers": None,
            "pairs": [["red", "yellow"]],
            "examples": {"classes": None, "confident_per_class": 1, "ambiguous_per_class": 1},
        },
        "oip": {
            "layers": None,
            "dense_layers": None,
            "maps_per_job": None,
            "node_oips": {"layer": None, "maps": 2},
        },
        "dream": {"single_map": {"layer": None, "maps": 2, "top_oip_maps": 1}, "fine": {"maps": 1}},
    }
    override = workspace.path("colour.yaml")
    override.write_text(yaml.safe_dump(own))
    workspace.snakemake(config_files=("tests/tiny_config.yaml", str(override)))
    return workspace


def test_the_dropped_in_model_is_read_not_trained(colour_run) -> None:
    network = json.loads(colour_run.path("results/model/network.json").read_text())
    names = [layer["name"] for layer in network["layers"]]
    assert list(COLOUR_LAYERS) == [n for n in names if n in COLOUR_LAYERS]
    assert network["input_shape"] == [COLOUR_SIDE, COLOUR_SIDE, 3]
    metrics = json.loads(colour_run.path("results/model/metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.5  # four classes: chance is 0.25
    assert not colour_run.path("results/model/history.csv").exists()


def test_colour_oips_for_every_map_of_every_conv_layer(colour_run) -> None:
    for layer, maps in zip(COLOUR_LAYERS, (8, 12), strict=True):
        files = sorted(colour_run.path(f"results/oips/{layer}").glob("map_*.npy"))
        assert len(files) == maps
        oip = np.load(files[0])
        assert oip.shape == (COLOUR_SIDE, COLOUR_SIDE, 3)
        assert 0.0 <= oip.min() and oip.max() <= 1.0  # preprocessing unit: kept in [0, 1]
    class_oips = sorted(colour_run.path("results/oips/colour").glob("map_*.npy"))
    assert len(class_oips) == len(COLOUR_CLASSES)


def test_colour_activation_grids_and_comparison(colour_run) -> None:
    with open(colour_run.path("results/activations/examples.csv")) as stream:
        rows = list(csv.DictReader(stream))
    assert rows and {"red", "yellow"} <= set(stream_text(colour_run, "examples.csv").split(","))
    index = rows[0]["index"]
    for layer in (*COLOUR_LAYERS, "shrink", "colour", "overview"):
        assert colour_run.path(f"results/activations/examples/test_{index}/{layer}.png").is_file()
    assert colour_run.path("results/activations/compare/0_vs_3/separation.csv").is_file()


def stream_text(workspace: Workspace, name: str) -> str:
    return workspace.path(f"results/activations/{name}").read_text().replace("\n", ",")


def test_colour_dreams_are_in_colour(colour_run) -> None:
    photo = np.load(next(colour_run.path("results/dreams").glob("*/photo.npy")))
    assert photo.ndim == 3 and photo.shape[-1] == 3
    dreams = list(colour_run.path("results/dreams").rglob("*.png"))
    assert len(dreams) >= 4


def test_the_atlas_covers_the_dropped_in_model(colour_run) -> None:
    index = colour_run.path("results/atlas/index.html").read_text()
    for layer in COLOUR_LAYERS:
        assert layer in index
    pages = "".join(page.read_text() for page in colour_run.path("results/atlas").rglob("*.html"))
    assert "yellow" in pages and "Conv2D" not in pages


def test_a_changed_model_file_reruns_from_the_import(colour_run) -> None:
    config_files = ("tests/tiny_config.yaml", str(colour_run.path("colour.yaml")))
    quiet = colour_run.snakemake("-n", config_files=config_files)
    assert "Nothing to be done" in quiet.stdout + quiet.stderr
    # the same model with other weights (Snakemake compares small files by checksum)
    import keras

    model_file = colour_run.path("someone_elses_cnn.keras")
    model = keras.models.load_model(model_file)
    model.set_weights([weights * 0.5 for weights in model.get_weights()])
    model.save(model_file)
    planned = colour_run.snakemake("-n", config_files=config_files)
    assert "import_model" in planned.stdout + planned.stderr
