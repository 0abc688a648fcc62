"""Activation grids, example selection, class statistics and comparison, and their jobs."""

from __future__ import annotations

import csv
import dataclasses
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from helpers import SCHEMA

from cnnlens import mnist, plan, settings
from cnnlens.activations import comparison as compare
from cnnlens.activations import examples as selection
from cnnlens.activations import grids, readout
from cnnlens.activations.example_set import ExampleSet, load_example_set, save_example_set
from cnnlens.activations.statistics import (
    ClassStatistics,
    ClassStatisticsAccumulator,
    load_class_statistics,
    save_class_statistics,
)
from cnnlens.configuration import validate_config
from cnnlens.errors import CnnLensError
from cnnlens.model import build_cnn
from cnnlens.network import Network, from_architecture
from cnnlens.plotting import activations as plots
from cnnlens.plotting.figures import resolve_colormap
from cnnlens.plotting.layer_grids import grid_title

REPOSITORY = Path(__file__).resolve().parents[1]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]


@cache
def defaults() -> settings.Settings:
    """The settings of an empty config: every default of the schema."""
    config: dict = {}
    validate_config(config, SCHEMA)
    return plan.start(config).settings


@cache
def study() -> Network:
    """The default network (the study's CNN), described from the default architecture."""
    return from_architecture(defaults().model.architecture, mnist.IMAGE_SHAPE)


GRID = defaults().activations.grid
DRAWN_LAYERS = defaults().activations.layers
OUTPUT_LAYER = study().layers[-1].name


def shape_of(layer: str) -> tuple[int, ...]:
    return study().layer(layer).output_shape


def random_activation(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).gamma(1.0, size=shape).astype(np.float32)


def grid_of(layer: str, activation: np.ndarray, values: str = "standardised") -> grids.LayerGrid:
    return grids.layer_grid(layer, activation, GRID, values, classes=layer == OUTPUT_LAYER)


# --- grids ----------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", [layer.name for layer in study().layers])
def test_grid_has_one_tile_per_map_or_node_and_drops_none(layer) -> None:
    shape = shape_of(layer)
    activation = random_activation(shape)
    grid = grid_of(layer, activation, values="raw")
    units = shape[-1] if len(shape) == 3 else shape[0]
    assert grid.count == units
    assert grid.tile_shape == (shape[:2] if len(shape) == 3 else (1, 1))
    assert grid.rows * grid.columns >= units > (grid.rows - 1) * grid.columns
    drawn = grid.mosaic[np.isfinite(grid.mosaic)]
    assert drawn.size == activation.size  # every value drawn once, nothing invented
    np.testing.assert_allclose(np.sort(drawn), np.sort(activation.ravel()), rtol=1e-6)


def test_grid_layouts_of_the_study() -> None:
    shapes = {layer: grid_of(layer, random_activation(shape_of(layer))) for layer in DRAWN_LAYERS}
    assert {layer: (grid.rows, grid.columns) for layer, grid in shapes.items()} == {
        "Conv2D_1": (4, 8),
        "Max_Pool_1": (4, 8),
        "Conv2D_2": (8, 8),
        "Max_Pool_2": (8, 8),
        "Conv2D_3": (16, 8),
        "dense": (10, 10),  # all 100 nodes
        "dense_1": (1, 10),  # the 10 outputs in class order
    }
    assert shapes["Conv2D_1"].mosaic.shape == (4 * 26, 8 * 26)
    assert shapes["dense_1"].classes and not shapes["dense"].classes
    eight_per_row = dataclasses.replace(GRID, dense_columns=8)
    dense = grids.layer_grid("dense", random_activation((100,)), eight_per_row, "standardised")
    assert (dense.rows, dense.columns, dense.count) == (13, 8, 100)
    assert np.isnan(dense.mosaic[12, 4:]).all() and np.isfinite(dense.mosaic[12, :4]).all()


def test_each_tile_shows_its_own_map_in_reading_order() -> None:
    activation = random_activation((11, 11, 64))
    grid = grid_of("Conv2D_2", activation, values="raw")
    for unit in (0, 7, 8, 45, 63):
        row, column = divmod(unit, 8)
        tile = grid.mosaic[row * 11 : (row + 1) * 11, column * 11 : (column + 1) * 11]
        np.testing.assert_allclose(tile, activation[..., unit], rtol=1e-6)


def test_standardised_values_per_map_and_per_dense_layer() -> None:
    conv = grid_of("Conv2D_3", random_activation((3, 3, 128)))
    assert conv.limits == (0.0, 255.0)
    assert 0 <= np.nanmin(conv.mosaic) and np.nanmax(conv.mosaic) <= 255
    np.testing.assert_allclose(conv.tiles.reshape(128, -1).mean(axis=1), 128, atol=20)
    dense = grid_of("dense", random_activation((100,)))
    assert dense.tiles.std() > 10  # 1x1 tiles are standardised together, not each to 128
    raw = grid_of("dense", np.arange(100.0), values="raw")
    assert raw.limits == raw.value_range == (0.0, 99.0)


def test_flat_maps_are_named() -> None:
    activation = random_activation((13, 13, 32))
    activation[..., [2, 30]] = 0.0
    grid = grid_of("Max_Pool_1", activation)
    assert grid.constant_units.tolist() == [2, 30]
    assert grid_title(grid).endswith("drawn standardised; flat maps: 2, 30")
    assert grid_of("dense", np.zeros(100)).constant_units.size == 0


def test_bad_grid_input_is_refused() -> None:
    with pytest.raises(CnnLensError, match="cannot tile"):
        grid_of("x", np.zeros((2, 2)))
    with pytest.raises(CnnLensError, match="activations.grid.values"):
        grid_of("dense", np.zeros(100), values="log")
    with pytest.raises(CnnLensError, match="unknown colour map 'jett' in activations"):
        resolve_colormap("jett", "activations.grid.colormap")


# --- example selection ----------------------------------------------------------------------


def probabilities_of(rows: dict[int, dict[int, float]], count: int) -> np.ndarray:
    """Probability rows: the given classes' probabilities, the rest spread evenly."""
    table = np.zeros((count, 10))
    for index, chosen in rows.items():
        rest = (1 - sum(chosen.values())) / (10 - len(chosen))
        table[index] = rest
        for digit, probability in chosen.items():
            table[index, digit] = probability
    return table


def test_selection_finds_clear_ambiguous_and_listed_images() -> None:
    labels = np.array([4, 4, 4, 9, 9, 4, 7])
    probabilities = probabilities_of(
        {
            0: {4: 0.99},  # clear 4
            1: {4: 0.999},  # clearer 4
            2: {4: 0.5, 9: 0.45},  # a 4 that looks like a 9
            3: {9: 0.97},  # clear 9
            4: {4: 0.6, 9: 0.35},  # a 9 taken for a 4: torn, and wrong
            5: {9: 0.9999},  # a 4 the model is sure is a 9: wrong, but not torn
            6: {7: 0.9},
        },
        7,
    )
    chosen_by = settings.build(
        settings.Examples,
        {"classes": [4, 9], "confident_per_class": 2, "ambiguous_per_class": 1,
         "test_indices": [6, 0]},
    )
    examples = selection.select_examples(probabilities, labels, chosen_by, [(4, 9)])
    reasons = {example.index: example.reasons for example in examples}
    assert [example.index for example in examples] == [1, 0, 3, 2, 4, 6]
    assert reasons[1] == ("clear 4 (rank 1)",)
    assert reasons[0] == ("clear 4 (rank 2)", "listed in config")
    assert reasons[3] == ("clear 9 (rank 1)",)
    assert reasons[2] == ("ambiguous 4 vs 9 (rank 1)",)
    assert reasons[4] == ("ambiguous 9 vs 4 (rank 1)",)
    assert reasons[6] == ("listed in config",)
    wrong = next(example for example in examples if example.index == 4)
    assert (wrong.label, wrong.predicted) == (9, 4)
    rows = selection.example_rows(examples)
    assert list(rows[0])[:4] == ["index", "label", "predicted", "confidence"]
    assert rows[1]["why"] == "clear 4 (rank 2); listed in config"
    assert rows[0]["p4"] == pytest.approx(0.999)
    assert (rows[4]["label_name"], rows[4]["predicted_name"]) == ("9", "4")


def test_selection_names_the_classes_in_reasons_rows_and_titles() -> None:
    labels = np.array([4, 9, 4])
    probabilities = probabilities_of({0: {4: 0.99}, 1: {9: 0.6, 4: 0.3}, 2: {4: 0.7}}, 3)
    chosen_by = settings.Examples((4,), 1, 1, ())
    examples = selection.select_examples(
        probabilities, labels, chosen_by, [(4, 9)], FASHION_CLASSES
    )
    assert examples[0].reasons == ("clear Coat (rank 1)",)
    assert "ambiguous Ankle boot vs Coat (rank 1)" in examples[-1].reasons
    rows = selection.example_rows(examples, FASHION_CLASSES)
    assert list(rows[0])[-3:] == ["why", "label_name", "predicted_name"]
    assert (rows[-1]["label_name"], rows[-1]["predicted_name"]) == ("Ankle boot", "Ankle boot")
    assert examples[0].describe(FASHION_CLASSES).startswith(
        "test image 0: label Coat, predicted Coat (p = 0.990)"
    )
    assert examples[0].describe() == "test image 0: label 4, predicted 4 (p = 0.990)"
    page = selection.examples_index(rows, ["Conv2D_1"])
    assert "| 0 | Coat | Coat | 0.990 | clear Coat (rank 1) |" in page


def test_clear_examples_are_ordered_beyond_float32_rounding() -> None:
    probabilities = np.zeros((3, 10), dtype=np.float32)
    probabilities[:, 4] = 1.0  # p(4) rounds to 1 for all three ...
    probabilities[:, 9] = [1e-9, 1e-12, 1e-10]  # ... but the rest says image 1 is surest
    chosen = selection.most_confident(probabilities, np.array([4, 4, 4]), 4, 3)
    assert chosen.tolist() == [1, 2, 0]


def test_selection_copes_with_few_images_and_refuses_bad_indices() -> None:
    labels = np.array([4, 9])
    probabilities = probabilities_of({0: {9: 0.8}, 1: {9: 0.8}}, 2)
    clear_fours = settings.Examples((4,), 3, 0, ())
    assert selection.select_examples(probabilities, labels, clear_fours, ()) == []  # no 4 right
    with pytest.raises(CnnLensError, match="test index 2 is out of range"):
        selection.select_examples(probabilities, labels, settings.Examples((), 0, 0, (2,)), ())


def test_index_page_links_every_page_of_every_image() -> None:
    rows = [{"index": 12, "label": 4, "predicted": 4, "confidence": 0.99, "why": "clear 4"}]
    page = selection.examples_index(rows, ["Conv2D_1", "dense"])
    assert (
        "[overview](examples/test_12/overview.png) [Conv2D_1](examples/test_12/Conv2D_1.png)"
        in page
    )
    assert "[dense](examples/test_12/dense.png) |" in page
    assert "| 12 | 4 | 4 | 0.990 | clear 4 |" in page


def example_set_of(layers: tuple[str, ...], indices: tuple[int, ...] = (12, 3)) -> ExampleSet:
    """Random activations of the study's ``layers`` for test images ``indices``."""
    examples = [
        selection.Example(index, 4, np.eye(10)[4], ("clear 4 (rank 1)", "listed in config"))
        for index in indices
    ]
    activations = {
        name: random_activation((len(indices), *shape_of(name)), seed=position)
        for position, name in enumerate(layers)
    }
    images = np.zeros((len(indices), *mnist.IMAGE_SHAPE[:2]))
    return ExampleSet(tuple(examples), images, activations, OUTPUT_LAYER)


def test_example_set_round_trip_and_lookup(tmp_path) -> None:
    example_set = example_set_of(DRAWN_LAYERS)
    path = tmp_path / "examples.npz"
    save_example_set(path, example_set)
    loaded = load_example_set(path)
    assert loaded.layers == list(DRAWN_LAYERS) and loaded.output_layer == OUTPUT_LAYER
    assert loaded.example(12).reasons == ("clear 4 (rank 1)", "listed in config")
    np.testing.assert_array_equal(
        loaded.activation("dense", 3), example_set.activations["dense"][1]
    )
    drawn = grids.layer_grids(loaded.activations_of(3, DRAWN_LAYERS), GRID, OUTPUT_LAYER)
    assert [grid.layer for grid in drawn] == list(DRAWN_LAYERS)
    assert [grid.classes for grid in drawn] == [layer == OUTPUT_LAYER for layer in DRAWN_LAYERS]
    with pytest.raises(CnnLensError, match="not among the selected examples"):
        loaded.activation("dense", 5)
    with pytest.raises(CnnLensError, match="was not read out"):
        loaded.activation("flatten", 3)
    path.write_bytes(b"broken")
    with pytest.raises(CnnLensError, match="cannot read"):
        load_example_set(path)


# --- class statistics and comparison -------------------------------------------------------


def planted(seed: int = 0) -> tuple[ClassStatistics, np.ndarray, np.ndarray]:
    """Statistics of random conv and dense activations (returned too) of classes 4 and 9 (and
    some 7s); map 3 is more active for the 4s at one position (1, 2), map 5 is dead, dense
    node 17 is less active for the 4s."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([4, 9, 7], [60, 50, 10])
    conv = rng.normal(1.0, 0.3, size=(len(labels), 4, 4, 6))
    dense = rng.normal(2.0, 0.5, size=(len(labels), 20))
    conv[labels == 4, 1, 2, 3] += 3.0
    conv[..., 5] = 0.0  # a dead map
    dense[labels == 4, 17] -= 1.5
    accumulator = ClassStatisticsAccumulator(10, "dense")
    for batch in np.array_split(np.arange(len(labels)), 4):  # batches must not matter
        accumulator.add({"conv": conv[batch], "dense": dense[batch]}, labels[batch])
    return accumulator.result(), conv, dense


def planted_statistics() -> ClassStatistics:
    return planted()[0]


def test_accumulated_statistics_equal_direct_ones() -> None:
    statistics, conv, _ = planted()
    fours = statistics.labels == 4
    layer = statistics.layer("conv")
    assert layer.counts[[4, 9, 7, 0]].tolist() == [60, 50, 10, 0]
    np.testing.assert_allclose(layer.mean[4], conv[fours].mean(axis=0))
    np.testing.assert_allclose(layer.variance[4], conv[fours].var(axis=0), atol=1e-10)
    np.testing.assert_allclose(layer.map_means, conv.mean(axis=(1, 2)), rtol=1e-6)
    assert layer.shape == (4, 4, 6)


def test_ranking_finds_the_planted_difference() -> None:
    statistics = planted_statistics()
    conv = compare.compare_classes(statistics, "conv", 4, 9)
    assert conv.ranking()[0] == 3
    assert conv.map_effect[3] > 1.5  # a large effect, 4s more active
    assert np.abs(np.delete(conv.map_effect, 3)).max() < 0.6
    rows, columns, effects = conv.strongest_points()
    assert (rows[3], columns[3]) == (1, 2) and effects[3] > 4
    ranking = compare.ranking_rows(conv)
    assert ranking[0]["map"] == 3 and ranking[0]["rank"] == 1
    assert (ranking[0]["best_row"], ranking[0]["best_column"]) == (1, 2)
    assert len(ranking) == 6
    dead = next(row for row in ranking if row["map"] == 5)
    assert dead["effect_size"] == 0 and dead["active_4"] == dead["active_9"] == 0
    assert ranking[0]["active_4"] == 1.0
    assert conv.silent_units().tolist() == [5]
    dense = compare.compare_classes(statistics, "dense", 4, 9)
    assert dense.ranking()[0] == 17 and dense.map_effect[17] < -2
    assert dense.map_auc[17] < 0.1  # the 4s' node 17 is below almost every 9's
    assert compare.ranking_rows(dense)[0]["node"] == 17
    assert dense.classes and not conv.classes  # "dense" is the output layer of the planted
    summary = compare.separation_rows(
        compare.compare_layers(statistics, ["conv", "dense"], 4, 9), 0.8
    )
    assert [row["layer"] for row in summary] == ["conv", "dense"]
    assert summary[0]["best_unit"] == 3 and summary[0]["large_effect_units"] == 1
    assert summary[0]["silent_units"] == 1 and summary[1]["silent_units"] == 0
    assert summary[1]["best_unit"] == 17 and summary[1]["best_auc"] > 0.9


def test_effect_size_is_cohens_d_with_pooled_sample_variance() -> None:
    rng = np.random.default_rng(1)
    first, second = rng.normal(1, 1, 40), rng.normal(0, 2, 30)
    pooled = np.sqrt(
        (39 * first.var(ddof=1) + 29 * second.var(ddof=1)) / (40 + 30 - 2)
    )
    expected = (first.mean() - second.mean()) / pooled
    computed = compare.effect_size(first.mean(), first.var(), 40, second.mean(), second.var(), 30)
    assert computed == pytest.approx(expected)
    assert compare.effect_size(np.zeros(1), np.zeros(1), 5, np.zeros(1), np.zeros(1), 5)[0] == 0


def test_area_under_curve_matches_counting_pairs_with_ties() -> None:
    rng = np.random.default_rng(2)
    first = rng.integers(0, 4, size=(15, 5)).astype(float)  # many ties, as with ReLU zeros
    second = rng.integers(0, 5, size=(11, 5)).astype(float)
    wins = (first[:, None, :] > second[None, :, :]).mean(axis=(0, 1))
    ties = (first[:, None, :] == second[None, :, :]).mean(axis=(0, 1))
    np.testing.assert_allclose(compare.area_under_curve(first, second), wins + ties / 2)


def test_comparing_a_class_without_images_is_refused(tmp_path) -> None:
    statistics = planted_statistics()
    with pytest.raises(CnnLensError, match="0 image.* of class 3"):
        compare.compare_classes(statistics, "conv", 4, 3)
    with pytest.raises(CnnLensError, match="no class statistics for layer 'dense_1'"):
        compare.compare_classes(statistics, "dense_1", 4, 9)
    path = tmp_path / "statistics.npz"
    save_class_statistics(path, statistics)
    loaded = load_class_statistics(path)
    assert loaded.output_layer == "dense"
    np.testing.assert_allclose(
        compare.compare_classes(loaded, "conv", 4, 9).map_effect,
        compare.compare_classes(statistics, "conv", 4, 9).map_effect,
        rtol=1e-5,
    )


# --- read-out -------------------------------------------------------------------------------

SMALL_NETWORK = (
    {"kind": "conv", "name": "edges", "filters": 4, "kernel": 3, "activation": "relu"},
    {"kind": "max_pool", "name": "pool", "size": 2},
    {"kind": "flatten", "name": "flat"},
    {"kind": "dense", "name": "classes", "units": 3, "activation": "softmax"},
)


def test_read_out_matches_any_model_in_any_batch_size() -> None:
    model = build_cnn(SMALL_NETWORK, (12, 12, 1))
    images = np.random.default_rng(3).normal(size=(7, 12, 12, 1)).astype(np.float32)
    outputs = readout.read_out(model, images, ["pool", "classes"], batch_size=3)
    assert outputs["pool"].shape == (7, 5, 5, 4)
    np.testing.assert_allclose(outputs["classes"], np.asarray(model(images)), atol=1e-6)
    np.testing.assert_allclose(
        readout.predict_probabilities(model, images), outputs["classes"], atol=1e-6
    )
    assert readout.read_out(model, images[:0], ["flat"])["flat"].shape == (0, 100)
    labels = np.array([0, 0, 1, 2, 2, 0, 1])
    statistics = readout.class_statistics(model, images, labels, ["flat"], batch_size=2)
    assert statistics.layer("flat").map_means.shape == (7, 100)
    assert statistics.layer("flat").counts.tolist() == [3, 2, 2]  # one class per output node
    assert statistics.output_layer == "classes"
    chosen = [
        selection.Example(index, 0, np.ones(3) / 3, ("listed in config",)) for index in (5, 1)
    ]
    example_set = readout.read_out_examples(model, images, chosen, ["edges"])
    np.testing.assert_array_equal(example_set.image(5), images[5, ..., 0])
    assert example_set.activations["edges"].shape == (2, 10, 10, 4)
    assert example_set.output_layer == "classes"
    with pytest.raises(CnnLensError, match="names layer 'Conv2D_9'.*edges, pool, flat, classes"):
        readout.read_out(model, images, ["edges", "Conv2D_9"])


COLOUR_NETWORK = (
    {"kind": "conv", "name": "rgb_edges", "filters": 5, "kernel": 3, "activation": "relu"},
    {"kind": "max_pool", "name": "halve", "size": 2},
    {"kind": "flatten", "name": "flat"},
    {"kind": "dense", "name": "scores", "units": 4, "activation": "linear"},
)
COLOUR_NAMES = ("cat", "dog", "T-shirt/top", "Ankle boot")


def test_a_linear_output_is_read_as_probabilities_through_a_softmax() -> None:
    model = build_cnn(COLOUR_NETWORK, (16, 16, 3))
    images = np.random.default_rng(4).normal(size=(6, 16, 16, 3)).astype(np.float32)
    logits = np.asarray(model(images))
    probabilities = readout.predict_probabilities(model, images)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5)
    assert not np.allclose(probabilities, logits)
    np.testing.assert_allclose(readout.softmax(np.array([[1000.0, 1000.0]])), [[0.5, 0.5]])


def test_colour_model_through_readout_grids_and_overview(tmp_path) -> None:
    model = build_cnn(COLOUR_NETWORK, (16, 16, 3))
    images = np.random.default_rng(5).normal(size=(5, 16, 16, 3)).astype(np.float32)
    probabilities = readout.predict_probabilities(model, images)
    chosen = [selection.Example(3, 2, probabilities[3], ("listed in config",))]
    layers = ["rgb_edges", "halve", "flat", "scores"]
    example_set = readout.read_out_examples(model, images, chosen, layers)
    assert example_set.image(3).shape == (16, 16, 3)  # the input tile in colour
    drawn = grids.layer_grids(example_set.activations_of(3, layers), GRID, "scores", COLOUR_NAMES)
    assert [grid.count for grid in drawn] == [5, 5, 245, 4]
    assert drawn[-1].class_names == COLOUR_NAMES and drawn[0].class_names == ()
    figure, axis = plots.plt.subplots()
    plots.draw_input(axis, example_set.image(3), chosen[0], COLOUR_NAMES)
    shown = axis.images[0].get_array()
    assert shown.shape == (16, 16, 3) and shown.min() == 0 and shown.max() == 1
    assert axis.get_title() == "input, test image 3 (label T-shirt/top)"
    plots.draw_probabilities(axis, chosen[0], COLOUR_NAMES)
    assert [label.get_text() for label in axis.get_xticklabels()] == list(COLOUR_NAMES)
    plots.plt.close(figure)
    plots.plot_example_pages(example_set, layers, GRID, tmp_path, COLOUR_NAMES)
    assert (tmp_path / "test_3" / "overview.png").stat().st_size > 5_000


# --- figures and the figure jobs -------------------------------------------------------------


def test_overview_rows_pack_panels_in_order() -> None:
    assert plots.pack_rows([1.0, 2.5, 2.0, 2.0, 1.0, 1.0, 0.5, 1.0, 10.0]) == [
        [0, 1], [2, 3], [4, 5, 6, 7], [8],
    ]


RUN_SCRIPT = """
import json, os, runpy, sys, types
from cnnlens import runtime
job = json.loads(sys.argv[2])
snakemake = types.SimpleNamespace(
    **{key: types.SimpleNamespace(**value) if isinstance(value, dict) else value
       for key, value in job.items()}
)
def end_if_light():  # a finished job ends its process at once: look at its imports first
    loaded = sorted(name for name in ("tensorflow", "keras") if name in sys.modules)
    print(f"the job imported {loaded}" if loaded else "", file=sys.stderr, flush=True)
    os._exit(3 if loaded else 0)
runtime._end_finished_process = end_if_light
runpy.run_path(sys.argv[1], init_globals={"snakemake": snakemake})
sys.exit("the job did not end through cnnlens.runtime.script_run")
"""


def run_job(script: str, job: dict, tmp_path: Path) -> None:
    """Run ``scripts/{script}.py`` as Snakemake would, in a fresh Python; fail if it imports
    TensorFlow or Keras."""
    job = {"log": [str(tmp_path / f"{script}.log")], "threads": 1, **job}
    result = subprocess.run(
        [sys.executable, "-c", RUN_SCRIPT, str(REPOSITORY / "scripts" / f"{script}.py"),
         json.dumps(job)],
        capture_output=True, text=True,
    )
    log = (tmp_path / f"{script}.log").read_text()
    assert result.returncode == 0, result.stderr[-3000:] + log[-3000:]


def test_figure_job_draws_every_layer_and_the_overview_without_tensorflow(tmp_path) -> None:
    example_set = example_set_of(DRAWN_LAYERS)
    save_example_set(tmp_path / "examples.npz", example_set)
    figures = tmp_path / "examples"
    job = {
        "input": {"activations": str(tmp_path / "examples.npz")},
        "output": {"figures": str(figures), "index": str(tmp_path / "index.md")},
        "params": {"grid": settings.keys_of(settings.Grid, vars(GRID)), "layers": DRAWN_LAYERS,
                   "class_names": FASHION_CLASSES},
    }
    run_job("activation_figures", job, tmp_path)
    folders = sorted(figures.iterdir())
    assert [folder.name for folder in folders] == sorted(
        f"test_{example.index}" for example in example_set.examples
    )
    for folder in folders:
        for page in (*DRAWN_LAYERS, "overview"):
            assert (folder / f"{page}.png").stat().st_size > 5_000
        assert len(list(folder.iterdir())) == len(DRAWN_LAYERS) + 1  # no temporary left over
    index = (tmp_path / "index.md").read_text()
    assert all(f"examples/{folder.name}/overview.png" in index for folder in folders)


def test_no_selected_image_still_gives_the_figure_directory(tmp_path) -> None:
    figures = tmp_path / "examples"
    plots.plot_example_pages(example_set_of(DRAWN_LAYERS, indices=()), DRAWN_LAYERS, GRID, figures)
    assert figures.is_dir() and not any(figures.iterdir())


def test_comparison_job_writes_every_layer_and_the_separation_without_tensorflow(
    tmp_path,
) -> None:
    layers = ("Conv2D_3", "dense", OUTPUT_LAYER)
    labels = np.repeat([4, 9], 12)
    accumulator = ClassStatisticsAccumulator(10, OUTPUT_LAYER)
    accumulator.add(example_set_of(layers, tuple(range(len(labels)))).activations, labels)
    save_class_statistics(tmp_path / "statistics.npz", accumulator.result())
    folder = tmp_path / "4_vs_9"
    job = {
        "input": {"statistics": str(tmp_path / "statistics.npz")},
        "output": {
            "figures": [str(folder / f"{layer}.png") for layer in layers],
            "rankings": [str(folder / f"{layer}.csv") for layer in layers],
            "separation_figure": str(folder / "separation.png"),
            "separation_table": str(folder / "separation.csv"),
        },
        "params": {
            "layers": layers,
            "grid": settings.keys_of(settings.GridLayout, vars(GRID)),
            "compare": vars(defaults().activations.compare),
            "class_names": FASHION_CLASSES,
        },
        "wildcards": {"first": "4", "second": "9"},
    }
    run_job("compare_classes", job, tmp_path)
    for layer in layers:
        assert (folder / f"{layer}.png").stat().st_size > 10_000
        with open(folder / f"{layer}.csv") as stream:
            assert len(list(csv.DictReader(stream))) == study().maps(layer)
    with open(folder / "separation.csv") as stream:
        separation = list(csv.DictReader(stream))
    assert [row["layer"] for row in separation] == list(layers)
    names = {(row["first_name"], row["second_name"]) for row in separation}
    assert names == {("Coat", "Ankle boot")}
    with open(folder / f"{OUTPUT_LAYER}.csv") as stream:  # the output nodes by class name
        assert {row["class_name"] for row in csv.DictReader(stream)} == set(FASHION_CLASSES)
    assert (folder / "separation.png").stat().st_size > 5_000
    assert len(list(folder.iterdir())) == 2 * len(layers) + 2  # no temporary left over


# --- the tiny pipeline ----------------------------------------------------------------------


def test_pipeline_selects_examples_and_draws_every_layer(tiny_run) -> None:
    with open(tiny_run.path("results/activations/examples.csv")) as stream:
        rows = list(csv.DictReader(stream))
    assert rows, "no example selected"
    assert {"index", "label", "predicted", "confidence", "p0", "p9", "why"} <= set(rows[0])
    assert any("ambiguous 4 vs 9" in row["why"] for row in rows)
    assert all(row["label"] == "4" for row in rows if "clear" in row["why"])
    example_set = load_example_set(tiny_run.path("results/activations/examples.npz"))
    assert [example.index for example in example_set.examples] == [int(r["index"]) for r in rows]
    for layer in DRAWN_LAYERS:
        assert example_set.activations[layer].shape == (len(rows), *shape_of(layer))
    index_page = tiny_run.path("results/activations/index.md").read_text()
    for row in rows:
        folder = tiny_run.path(f"results/activations/examples/test_{row['index']}")
        for page in (*DRAWN_LAYERS, "overview"):
            assert (folder / f"{page}.png").stat().st_size > 5_000
        assert f"examples/test_{row['index']}/overview.png" in index_page


def test_pipeline_compares_4_and_9_on_every_layer(tiny_run) -> None:
    folder = tiny_run.path("results/activations/compare/4_vs_9")
    units = {"Conv2D_1": 32, "Max_Pool_1": 32, "Conv2D_2": 64, "Max_Pool_2": 64,
             "Conv2D_3": 128, "dense": 100, "dense_1": 10}
    for layer, count in units.items():
        assert (folder / f"{layer}.png").stat().st_size > 10_000
        with open(folder / f"{layer}.csv") as stream:
            ranking = list(csv.DictReader(stream))
        assert len(ranking) == count  # every map or node ranked
        magnitudes = [abs(float(row["effect_size"])) for row in ranking]
        assert magnitudes == sorted(magnitudes, reverse=True)
    with open(folder / "separation.csv") as stream:
        assert [row["layer"] for row in csv.DictReader(stream)] == list(units)
    assert (folder / "separation.png").stat().st_size > 10_000
