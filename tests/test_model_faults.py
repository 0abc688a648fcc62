"""A dropped-in model (``model.file``) that cannot be looked into stops the dry run before any
job, with one line: no conv layer, an input that does not fit the data, a layer the config
names that the model lacks, a damaged file, a file that is not a model, a branching graph."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Workspace, make_workspace
from test_faults import assert_one_line_error

pytestmark = pytest.mark.pipeline


def keras_layers():
    import keras

    return keras, keras.layers


def saved(model, path: Path) -> Path:
    model.save(path)
    return path


def grey_cnn(path: Path) -> Path:
    """A fitting model (MNIST-sized) with its own layer names."""
    keras, layers = keras_layers()
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(4, 3, activation="relu", name="edges"),
            layers.Flatten(name="flat"),
            layers.Dense(10, activation="softmax", name="digits"),
        ]
    )
    return saved(model, path)


def no_conv(path: Path) -> Path:
    keras, layers = keras_layers()
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10, activation="softmax")]
    )
    return saved(model, path)


def colour_input(path: Path) -> Path:
    keras, layers = keras_layers()
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    return saved(model, path)


def branching(path: Path) -> Path:
    keras, layers = keras_layers()
    inputs = keras.Input((28, 28, 1))
    left = layers.Conv2D(4, 3, activation="relu", name="left")(inputs)
    right = layers.Conv2D(4, 3, activation="relu", name="right")(inputs)
    joined = layers.Concatenate(name="join")([left, right])
    outputs = layers.Dense(10, activation="softmax")(layers.Flatten()(joined))
    return saved(keras.Model(inputs, outputs), path)


def truncated(path: Path) -> Path:
    grey_cnn(path)
    path.write_bytes(path.read_bytes()[:-300])
    return path


def not_a_model(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps({"class_name": "Adam", "config": {}}))
    return path


#: name: (how the file is made, config beyond model.file, what the one line says)
CASES: dict[str, tuple[Callable[[Path], Path], str, tuple[str, ...]]] = {
    "no conv layer": (no_conv, "", ("no conv layer",)),
    "input does not fit": (colour_input, "", ("32x32x3", "28x28x1")),
    "layer the model lacks": (
        grey_cnn,
        ", oip: {layers: [Conv2D_1]}",
        ("'Conv2D_1'", "edges, flat, digits"),
    ),
    "damaged file": (truncated, "", ("is damaged",)),
    "not a model": (not_a_model, "", ("is not a Keras model", "Adam")),
    "branching": (branching, "", ("only chains of layers",)),
}

#: The tiny config names MNIST layers; null lets them follow the dropped-in model.
FOLLOW_THE_MODEL = (
    "oip: {layers: null, dense_layers: null, node_oips: {layer: null, maps: 1}}, "
    "dream: {single_map: {layer: null, maps: 1}, fine: {maps: 1}}"
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return make_workspace(tmp_path_factory.mktemp("model_faults"))


def dry_run(workspace: Workspace, model_file: Path, extra: str = ""):
    config = workspace.path("model.yaml")
    config.write_text(f"{{model: {{file: {model_file}}}, {FOLLOW_THE_MODEL}{extra}}}\n")
    return workspace.snakemake(
        "-n", check=False, config_files=("tests/tiny_config.yaml", str(config))
    )


@pytest.mark.parametrize("case", list(CASES))
def test_a_model_that_cannot_be_read_stops_the_dry_run(workspace: Workspace, case: str) -> None:
    make, extra, expected = CASES[case]
    model_file = make(workspace.path(f"{case.replace(' ', '_')}.keras"))
    line = assert_one_line_error(dry_run(workspace, model_file, extra), *expected)
    if case not in ("no conv layer", "layer the model lacks"):  # these list its layers
        assert str(model_file) in line
    assert not workspace.path("results").exists()


def test_a_fitting_model_plans_an_import_and_no_training(workspace: Workspace) -> None:
    result = dry_run(workspace, grey_cnn(workspace.path("fits.keras")))
    assert result.returncode == 0, result.stderr[-3000:]
    planned = result.stdout + result.stderr
    assert "import_model" in planned and "rule train:" not in planned
    assert "oip_search" in planned
