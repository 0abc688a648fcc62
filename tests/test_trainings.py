"""The trainings comparison: the matching finds planted partners, the stage runs two tiny
trainings through the real snakemake (its correlations recomputed independently), and the
README's table is the real run's summary.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cnnlens.files import read_csv
from cnnlens.trainings import layout
from cnnlens.trainings.correlation import CrossCorrelation
from cnnlens.trainings.matching import (
    match_maps,
    match_runs,
    shown_pairs,
    summary_row,
    summary_table,
)

ROOT = Path(__file__).resolve().parents[1]
#: the real run's summary.csv (2 trainings of the default config), whose table the README shows
README_SUMMARY = ROOT / "docs" / "trainings_summary.csv"
#: a whole layer per search job: fewer TensorFlow start-ups than the tiny config's chunks
TRAININGS_CONFIG = "oip:\n  maps_per_job: null\n"


def correlation_in_batches(first: np.ndarray, second: np.ndarray, batch: int) -> np.ndarray:
    accumulator = CrossCorrelation()
    for start in range(0, len(first), batch):
        accumulator.add(first[start : start + batch], second[start : start + batch])
    return accumulator.correlation()


def planted_activations(seed: int = 0) -> np.ndarray:
    """(images, H, W, maps) ReLU-like activations, each map its own pattern, one map dead."""
    rng = np.random.default_rng(seed)
    values = np.maximum(rng.normal(0.5, 1.0, (40, 5, 5, 12)), 0.0)
    values[..., 3] = 0.0
    return values


def test_a_permuted_copy_matches_back_with_r_one() -> None:
    first = planted_activations()
    permutation = np.random.default_rng(1).permutation(first.shape[-1])
    second = 3.0 * first[..., permutation] + 7.0  # another scale and offset: r is unchanged
    partners, r = match_maps(correlation_in_batches(first, second, batch=7))
    live = np.arange(first.shape[-1]) != 3
    # map i of the first is map j of the second where permutation[j] == i
    assert np.array_equal(partners[live], np.argsort(permutation)[live])
    np.testing.assert_allclose(r[live], 1.0, atol=1e-12)
    assert r[3] == 0.0  # a dead map correlates with nothing


def test_the_batched_correlation_is_pearsons() -> None:
    first, second = planted_activations(0), planted_activations(1)
    with np.errstate(invalid="ignore", divide="ignore"):  # the dead map's r is NaN here
        pairs = np.corrcoef(first.reshape(-1, 12), second.reshape(-1, 12), rowvar=False)
    expected = pairs[:12, 12:]
    found = correlation_in_batches(first, second, batch=9)
    live = np.isfinite(expected)
    np.testing.assert_allclose(found[live], expected[live], atol=1e-12)
    assert np.all(found[~live] == 0.0)


def test_noise_lowers_r_and_the_share_above_the_threshold() -> None:
    first = planted_activations()
    rng = np.random.default_rng(2)
    medians = []
    for noise in (0.0, 0.5, 2.0):
        second = first + rng.normal(0.0, noise, first.shape)
        partners, r = match_maps(correlation_in_batches(first, second, batch=11))
        rows = [
            {"run_a": 0, "run_b": 1, "map_a": index, "map_b": partner, "r": value}
            for index, (partner, value) in enumerate(zip(partners, r))
        ]
        summary = summary_row("conv", rows, threshold=0.8)
        medians.append(float(summary["median_r"]))
        if noise == 0.0:
            assert summary["matched"] == 11  # all but the dead map
        if noise == 2.0:
            assert summary["matched"] == 0
    assert medians[0] > medians[1] > medians[2]


def test_every_further_run_is_matched_with_run_0() -> None:
    swap = np.array([[0.1, 0.9], [0.95, 0.2]])  # run 1: the maps swapped
    same = np.array([[0.5, 0.1], [0.0, 0.85]])  # run 2: in place, one below the threshold
    matchings, summary = match_runs({("c", 2): same, ("c", 1): swap}, ["c"], 0.8)
    assert [(row["run_b"], row["map_a"], row["map_b"], row["r"]) for row in matchings["c"]] == [
        (1, 0, 1, "0.900000"), (1, 1, 0, "0.950000"), (2, 0, 0, "0.500000"), (2, 1, 1, "0.850000")
    ]
    assert [(row["run_b"], row["matched"], row["share"]) for row in summary] == [
        (1, 2, "1.0000"), (2, 1, "0.5000")
    ]


def test_the_shown_pairs_run_from_the_best_to_the_worst() -> None:
    values = [0.5, 0.9, 0.1, 0.7]
    rows = [{"map_a": index, "r": f"{value:.6f}"} for index, value in enumerate(values)]
    shown = shown_pairs(rows, 3)
    assert [row["map_a"] for row in shown] == [1, 0, 2]  # r 0.9, a middle one, r 0.1


def test_run_k_keeps_the_main_models_tree_under_its_directory() -> None:
    assert layout.run_path(0, "results/model/cnn.keras") == "results/model/cnn.keras"
    assert layout.run_path(2, "results/model/cnn.keras") == (
        "results/trainings/run_2/model/cnn.keras"
    )
    assert layout.run_path("{run}", "results/oips/x.npz") == (
        "results/trainings/run_{run}/oips/x.npz"
    )
    assert layout.run_seed(1234, "1") == 1235


def test_the_readme_shows_the_real_runs_summary() -> None:
    rows = read_csv(README_SUMMARY)
    threshold = 0.8
    assert summary_table(rows, threshold) in (ROOT / "README.md").read_text()


def independent_correlations(models: list, images: np.ndarray, layer: str) -> np.ndarray:
    """r of every map pair of ``layer`` between two models, from plain Keras and NumPy."""
    import keras

    outputs = []
    for model in models:
        readout = keras.Model(model.inputs[0], model.get_layer(layer).output)
        values = np.asarray(readout.predict(images, verbose=0), dtype=np.float64)
        outputs.append(values.reshape(-1, values.shape[-1]))
    maps = outputs[0].shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):  # dead maps: NaN, 0 to the stage
        pairs = np.corrcoef(outputs[0], outputs[1], rowvar=False)[:maps, maps:]
    return np.nan_to_num(pairs)


@pytest.mark.pipeline
def test_two_tiny_trainings_are_compared(fresh_workspace) -> None:
    from cnnlens.files import load_array
    from cnnlens.model import load_cnn
    from scipy.optimize import linear_sum_assignment

    workspace = fresh_workspace
    workspace.path("trainings.yaml").write_text(TRAININGS_CONFIG)
    config_files = ("tests/tiny_config.yaml", "trainings.yaml")
    workspace.snakemake("trainings", config_files=config_files)
    run_1 = workspace.path("results/trainings/run_1/model")
    # run 1 is another training of the same network: the train rule with seed + 1
    assert (run_1 / "history.csv").read_text() != workspace.path(
        "results/model/history.csv"
    ).read_text()
    summary = read_csv(workspace.path("results/trainings/summary.csv"))
    assert [row["layer"] for row in summary] == ["Conv2D_1", "Conv2D_2", "Conv2D_3"]
    assert workspace.path("results/trainings/summary.md").read_text() == summary_table(
        summary, 0.8
    )
    models = [load_cnn(workspace.path(path)) for path in (
        "results/model/cnn.keras", "results/trainings/run_1/model/cnn.keras"
    )]
    images = load_array(workspace.path("results/data/test_imgs.npy"))
    for row in summary:
        matching = read_csv(workspace.path(f"results/trainings/matching/{row['layer']}.csv"))
        recomputed = summary_row(row["layer"], matching, 0.8)
        assert {key: str(value) for key, value in recomputed.items()} == row
        maps = int(row["maps"])
        assert [int(pair["map_a"]) for pair in matching] == list(range(maps))
        assert sorted(int(pair["map_b"]) for pair in matching) == list(range(maps))
        # the correlations and the assignment, recomputed from the two models directly
        expected = independent_correlations(models, images, row["layer"])
        found = np.array([float(pair["r"]) for pair in matching])
        rows, columns = linear_sum_assignment(expected, maximize=True)
        np.testing.assert_allclose(found, expected[rows, columns], atol=2e-5)
        assert abs(found.sum() - expected[rows, columns].sum()) < 1e-4
        figure = workspace.path(f"results/trainings/matching/{row['layer']}_run_1.png")
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the comparison trains again: the default target does not include it
    dry_run = workspace.snakemake("-n", config_files=config_files)
    planned = dry_run.stdout + dry_run.stderr
    assert "oip_search" in planned  # the dry run lists the jobs it would run
    assert "train_run" not in planned and "trainings_match" not in planned


@pytest.mark.pipeline
def test_an_imported_model_has_no_training_to_compare(fresh_workspace) -> None:
    from helpers import study_cnn

    workspace = fresh_workspace
    study_cnn().save(workspace.path("imported.keras"))
    workspace.path("imported.yaml").write_text("model:\n  file: imported.keras\n")
    result = workspace.snakemake(
        "-n", "trainings", check=False, config_files=("tests/tiny_config.yaml", "imported.yaml")
    )
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("cnnlens error: the target trainings trains model.architecture")
    assert "set model.file to null" in message and "Traceback" not in result.stderr
