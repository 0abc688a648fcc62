"""Where the runs of the trainings comparison keep their files, and their seeds.

Run 0 is the main model with its own files (``results/model/``, ``results/oips/``); run k
keeps the same tree under ``results/trainings/run_k/``. No TensorFlow: the rule files use
this module.
"""

from __future__ import annotations

from collections.abc import Sequence

DIRECTORY = "results/trainings"
MATCHING_DIRECTORY = f"{DIRECTORY}/matching"
#: the runs a rule makes (run 0, the main model, is the model stage's)
RUN_PATTERN = r"[1-9]\d*"


def run_path(run: int | str, path: str) -> str:
    """Run ``run``'s copy of a result path: ``results/X`` for run 0 (the main model's own
    file), ``results/trainings/run_{run}/X`` otherwise (``run`` may be ``"{run}"``)."""
    if str(run) == "0":
        return path
    relative = path.removeprefix("results/")
    if relative == path:
        raise ValueError(f"{path} is not a path under results/")
    return f"{DIRECTORY}/run_{run}/{relative}"


def run_paths(run: int | str, paths: Sequence[str]) -> list[str]:
    """:func:`run_path` of each of ``paths``."""
    return [run_path(run, path) for path in paths]


def run_seed(seed: int, run: int | str) -> int:
    """The seed run ``run`` trains with: the config's seed plus the run's number."""
    return int(seed) + int(run)


def further_runs(runs: int) -> range:
    """The runs trained for the comparison (run 0 is the main model)."""
    return range(1, runs)


def matching_file(layer: str) -> str:
    """A layer's matched maps: ``results/trainings/matching/{layer}.csv``."""
    return f"{MATCHING_DIRECTORY}/{layer}.csv"


def figure_file(layer: str, run: int | str) -> str:
    """The OIPs of a layer's maps matched between run 0 and run ``run``."""
    return f"{MATCHING_DIRECTORY}/{layer}_run_{run}.png"


def figure_files(layers: Sequence[str], runs: int) -> list[str]:
    """Every layer's figure for every further run."""
    return [figure_file(layer, run) for layer in layers for run in further_runs(runs)]


def imported_model_error(model_file: str) -> str:
    """The one line that stops the target trainings for a model taken as it is."""
    return (
        f"cnnlens error: the target trainings trains model.architecture again, but model.file "
        f"{model_file} is taken as it is; set model.file to null to compare trainings"
    )
