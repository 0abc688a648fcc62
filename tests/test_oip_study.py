"""The OIP study stage: variants merged over the oip section and checked before any job, the
scores of a search, the README's table equal to the default run's summary.csv, and the stage
in the tiny pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cnnlens import plan, settings
from cnnlens.configuration import validate_config
from cnnlens.errors import CnnLensError
from cnnlens.files import read_csv
from cnnlens.oip.results import SearchResult
from cnnlens.oip_study import scores
from cnnlens.oip_study.records import HandSeries
from cnnlens.oip_study.variants import merged, variant_searches

ROOT = Path(__file__).resolve().parents[1]
#: The default run's summary.csv, as the README's table shows it.
DEFAULT_RUN_SUMMARY = ROOT / "docs" / "oip_study_summary.csv"
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def validated(override: dict | None = None) -> dict:
    config = override or {}
    validate_config(config, SCHEMA)
    return config


def test_an_override_replaces_only_the_keys_it_names() -> None:
    base = {"noise": {"scales": [3, 7], "factors": [0.5, 0.5]}, "steps": 400, "param": "pixel"}
    result = merged(base, {"noise": {"scales": [28]}, "steps": 10})
    expected = {"noise": {"scales": [28], "factors": [0.5, 0.5]}, "steps": 10, "param": "pixel"}
    assert result == expected
    assert base["noise"]["scales"] == [3, 7]  # the base is left as it was


def test_the_default_variants_are_built_over_the_oip_section() -> None:
    config = validated({"oip": {"steps": 300, "restarts": 3}})
    tree = plan.start(config).settings
    searches = variant_searches(tree.oip, tree.oip_study.variants)
    assert list(searches)[:4] == ["default", "pixel_noise", "long_range", "staged"]
    built = {name: settings.build(settings.OipSearch, search) for name, search in searches.items()}
    assert searches["default"] == settings.keys_of(settings.OipSearch, config["oip"])
    assert built["pixel_noise"].noise.scales == (28,) and built["long_range"].noise.scales == (3,)
    assert built["staged"].strategy.kind == "staged"
    assert all(search.steps == 300 and search.restarts == 3 for search in built.values())
    assert tree.oip_study.layers == tree.oip.layers
    assert tree.oip_study.hand.layer == "Conv2D_3"


@pytest.mark.parametrize(
    "variants, message",
    [
        ({"wide": {"layers": ["Conv2D_1"]}}, "oip_study.variants.wide overrides ['layers']"),
        ({"odd": {"strategy": {"kind": "stagged"}}}, "oip_study.variants.odd: oip.strategy.kind"),
        ({"short": {"steps": "many"}}, "oip_study.variants.short: oip.steps: 'many' is not"),
    ],
)
def test_a_bad_variant_is_one_line_before_any_job(variants, message) -> None:
    with pytest.raises(CnnLensError, match=message.replace("[", r"\[").replace("]", r"\]")):
        plan.start(validated({"oip_study": {"variants": variants}}))


def test_a_variant_the_oip_section_cannot_search_stops_only_the_study() -> None:
    # 50 steps leave the staged variant's stage_starts [20, 40, 80] outside the search: the
    # other stages run, the study's variants are refused
    tree = plan.start(validated({"oip": {"steps": 50}})).settings
    with pytest.raises(CnnLensError, match="oip_study.variants.staged: oip.strategy.stage_starts"):
        variant_searches(tree.oip, tree.oip_study.variants)
    short = {"short": {"noise": {"scales": [3, 28]}}}  # four factors for two scales
    with pytest.raises(CnnLensError, match="oip_study.variants.short: oip.noise: noise scales"):
        variant_searches(tree.oip, short)


@pytest.mark.parametrize(
    "study, message",
    [
        ({"layers": ["dense"]}, "oip_study.layers"),
        ({"hand": {"map": 128}}, "oip_study.hand.map lists maps [128]"),
    ],
)
def test_the_study_layers_and_hand_map_must_exist(study, message) -> None:
    with pytest.raises(CnnLensError, match=message.replace("[", r"\[").replace("]", r"\]")):
        plan.start(validated({"oip_study": study}))


def search_result(objectives: np.ndarray, images: np.ndarray, test_max: np.ndarray) -> SearchResult:
    """A result of T maps with R restarts holding only what the scores read."""
    count, restarts = objectives.shape
    zeros = np.zeros((count, restarts), np.int64)
    return SearchResult(
        layer="conv", maps=np.arange(count), nodes=np.full((count, 2), -1),
        restart_images=images, restart_objectives=objectives,
        histories=np.zeros((count, restarts, 2)), snapshots=np.zeros((count, 1, 4, 4)),
        snapshot_steps=np.array([0]), converged_step=zeros - 1, candidates=zeros[:, 0],
        revived=zeros.astype(bool), revival_steps=zeros[:, 0], test_max=test_max,
        test_p99=test_max,
    )


def test_the_scores_of_a_search() -> None:
    rng = np.random.default_rng(0)
    pattern = rng.normal(size=(6, 6))
    images = np.stack([
        np.stack([pattern, pattern]),  # restarts alike: similarity 1
        np.stack([pattern, rng.normal(size=(6, 6))]),
        np.stack([pattern, np.roll(pattern, 2, axis=1)]),  # the same pattern moved 2 pixels
        np.stack([pattern, pattern]),  # dead: no restart fires
    ])
    objectives = np.array([[2.0, 1.0], [3.0, 0.5], [1.0, 1.0], [0.0, 0.0]], np.float32)
    test_max = np.array([1.0, 4.0, 0.0, 1.0], np.float32)
    zero_starts = np.array([[False, True], [False, False], [True, True], [True, True]])
    row = scores.score_row("conv", "plain", search_result(objectives, images, test_max),
                           zero_starts, 12.34)
    assert row["zero_starts"] == "0.625"  # 5 of 8 starts
    # objective / best test image over maps some test image drives: 2, 0.75 and 0 -> median 0.75
    assert row["objective_over_test"] == "0.750"
    assert row["beats_test"] == "0.500"  # maps 0 and 2 (test max 0, objective 1)
    assert row["dead"] == 1 and row["maps"] == 4 and row["restarts"] == 2
    similarity = [1.0, np.corrcoef(images[1, 0].ravel(), images[1, 1].ravel())[0, 1]]
    moved = np.corrcoef(images[2, 0].ravel(), images[2, 1].ravel())[0, 1]
    median = np.median([*similarity, moved])
    assert float(row["restart_similarity"]) == pytest.approx(median, abs=1e-3)
    assert float(row["shifted_similarity"]) == pytest.approx(1.0, abs=1e-3)  # median of 1, x, 1
    assert row["seconds"] == "12.3"


def test_objective_over_test_without_driven_maps_is_empty() -> None:
    assert np.isnan(scores.objective_over_test(np.ones(3), np.zeros(3)))
    assert np.isnan(scores.beats_test(np.ones(3), np.full(3, np.nan)))


def test_summary_rows_need_every_layer_and_variant_once() -> None:
    part = [{"layer": "a", "variant": "x"}, {"layer": "a", "variant": "y"}]
    other = [{"layer": "b", "variant": "y"}, {"layer": "b", "variant": "x"}]
    rows = scores.summary_rows([part, other], ["a", "b"], ["x", "y"])
    pairs = [(row["layer"], row["variant"]) for row in rows]
    assert pairs == [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")]
    with pytest.raises(CnnLensError, match="expected each of"):
        scores.summary_rows([part, part], ["a"], ["x", "y"])


def test_the_readme_table_is_the_default_runs_summary() -> None:
    rows = read_csv(DEFAULT_RUN_SUMMARY)
    assert {row["layer"] for row in rows} == {"Conv2D_1", "Conv2D_2", "Conv2D_3"}
    assert scores.markdown_table(rows) in (ROOT / "README.md").read_text()


def test_tiny_run_builds_the_oip_study(tiny_run) -> None:
    tiny_run.snakemake("oip_study")
    directory = tiny_run.path("results/oip_study")
    rows = read_csv(directory / "summary.csv")
    variants = ["default", "pixel_noise", "long_range", "staged", "screen_every", "fourier",
                "transforms"]
    assert sorted((row["layer"], row["variant"]) for row in rows) == sorted(
        ("Conv2D_1", variant) for variant in variants
    )
    for row in rows:
        assert row["maps"] == "32" and row["restarts"] == "2"
        for score in ("zero_starts", "beats_test"):
            assert 0.0 <= float(row[score]) <= 1.0
        assert float(row["objective_over_test"]) > 0
        assert -1.0 <= float(row["restart_similarity"]) <= float(row["shifted_similarity"]) <= 1.0
        assert int(row["dead"]) == 0 and float(row["seconds"]) >= 0
    table = {row["variant"]: row for row in rows}
    # one noise scale changes what is found: the searches differ from the default
    assert table["pixel_noise"]["objective_over_test"] != table["long_range"]["objective_over_test"]
    assert (directory / "summary.md").read_text() == scores.markdown_table(rows)
    for figure in ("summary.png", "oips.png", "hand.png"):
        assert (directory / figure).stat().st_size > 10_000
    hand = HandSeries.from_arrays(np.load(directory / "hand.npz"))
    assert hand.layer == "Conv2D_3" and hand.map == 1
    assert hand.snapshots.shape[:3] == (3, 2, 2)  # snapshot steps 0, 3, 12; scales 3, 28; 2 seeds
    assert list(hand.snapshot_steps) == [0, 3, 12]
    assert np.isfinite(hand.objective).all() and hand.test_max >= 0
