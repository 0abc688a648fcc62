"""Same config, same bytes: two runs from scratch give identical splits and weights (CPU)."""

from __future__ import annotations

import numpy as np

from cnnlens.data import SPLIT_FILES
from cnnlens.files import read_csv
from cnnlens.model import load_cnn
from conftest import make_workspace

TARGETS = ("results/model/cnn.keras", "results/model/history.csv")


def test_same_config_gives_identical_splits_and_weights(tmp_path) -> None:
    first = make_workspace(tmp_path / "first")
    second = make_workspace(tmp_path / "second")
    for workspace in (first, second):
        workspace.snakemake(*TARGETS)
    for name in SPLIT_FILES:
        relative = f"results/data/{name}.npy"
        assert first.path(relative).read_bytes() == second.path(relative).read_bytes(), name
    first_weights = load_cnn(first.path(TARGETS[0])).get_weights()
    second_weights = load_cnn(second.path(TARGETS[0])).get_weights()
    for one, other in zip(first_weights, second_weights, strict=True):
        np.testing.assert_array_equal(one, other)
    histories = [read_csv(workspace.path(TARGETS[1])) for workspace in (first, second)]
    assert [row["loss"] for row in histories[0]] == [row["loss"] for row in histories[1]]
