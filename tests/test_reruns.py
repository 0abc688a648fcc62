"""After a completed tiny run, a change reruns exactly the stages that depend on it.

Each test asks the real CLI (``snakemake --dry-run``, ``--list-changes``) what it would do.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import matplotlib.cbook
import pytest

UPSTREAM = {"prepare_data", "train"}
ACTIVATION_RULES = {
    "select_examples", "activation_figures", "activation_statistics",
    "compare_classes",
}
OIP_RULES = {
    "oip_search", "oip_nodes", "oip_gather_Conv2D_1", "oip_figures_Conv2D_1",
    "oip_gather_dense_1", "oip_figures_dense_1",
}
DREAM_RULES = {"dream_photo", "dream_maps", "dream_layers", "dream_fine"}


def planned_jobs(workspace, *arguments: str) -> dict[str, int]:
    """Rule -> number of jobs that ``snakemake --dry-run`` plans (rule ``all`` left out)."""
    result = workspace.snakemake("--dry-run", *arguments)
    output = result.stdout + result.stderr
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", table, flags=re.MULTILINE))
    jobs.pop("all", None)
    return {rule: int(count) for rule, count in jobs.items()}


@contextlib.contextmanager
def edited(path: Path, addition: bytes = b"\n# an edit\n") -> Iterator[None]:
    """Edit ``path`` (append to it), then put back its bytes and time stamps.

    A real edit, not a touch: Snakemake skips an input whose time changed but whose checksum is
    the one it recorded.
    """
    original, before = path.read_bytes(), path.stat()
    path.write_bytes(original + addition)
    try:
        yield
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_nothing_to_do_when_nothing_changed(tiny_run) -> None:
    assert planned_jobs(tiny_run) == {}


def test_an_oip_parameter_reruns_only_oips_and_their_consumers(tiny_run) -> None:
    jobs = planned_jobs(tiny_run, "--config", "oip={steps: 13}")
    assert OIP_RULES <= set(jobs)
    # the single-map dreams and the atlas show the OIPs
    assert set(jobs) <= OIP_RULES | {"dream_maps", "atlas_site"}
    plan = tiny_run.snakemake("--dry-run", "--config", "oip={steps: 13}").stdout
    reasons = plan.split("params have changed since last execution:", 1)[1].split("\n")[1]
    assert {name.strip() for name in reasons.split(",")} == {"oip_search", "oip_nodes"}


def test_list_changes_code_names_the_outputs_of_an_edited_script(tiny_run) -> None:
    # (--list-changes params is not used: Snakemake 9.27 lists every output there, changed or
    # not, because an empty ParamsChange still iterates over its files.)
    with edited(tiny_run.path("scripts/oip_figures.py")):
        changed = tiny_run.snakemake("--list-changes", "code").stdout.split()
    assert "results/oips/Conv2D_1/sheet.png" in changed
    assert not [path for path in changed if not path.startswith("results/oips/")]


def test_a_training_parameter_reruns_train_and_everything_downstream(tiny_run) -> None:
    jobs = planned_jobs(tiny_run, "--config", "training={epochs: 2}")
    assert "train" in jobs and "prepare_data" not in jobs
    assert {"select_examples", "activation_statistics", "oip_search", "dream_maps"} <= set(jobs)


def test_a_data_parameter_reruns_everything(tiny_run) -> None:
    jobs = planned_jobs(tiny_run, "--config", "data={subset: {test: 299}}")
    assert {"prepare_data", "train", "oip_search", "select_examples"} <= set(jobs)


@pytest.mark.parametrize(
    "module, expected, untouched",
    [
        ("oip/search.py", {"oip_search", "oip_nodes"}, UPSTREAM | ACTIVATION_RULES),
        ("optvis/render.py", {"oip_search", "oip_nodes", "dream_maps"}, UPSTREAM),
        ("activations/readout.py", {"select_examples", "activation_statistics"}, UPSTREAM),
        ("dream/imaging.py", {"dream_maps", "dream_layers", "dream_fine"}, UPSTREAM | OIP_RULES),
        ("training.py", {"train"}, {"prepare_data"}),
        ("mnist.py", {"prepare_data"}, set()),
    ],
)
def test_editing_a_library_module_reruns_the_rules_that_import_it(
    tiny_run, module: str, expected: set[str], untouched: set[str]
) -> None:
    with edited(tiny_run.path(f"workflow/cnnlens/{module}")):
        jobs = planned_jobs(tiny_run)
    assert expected <= set(jobs), jobs
    assert not untouched & set(jobs), jobs


def test_editing_a_figure_module_redraws_without_retraining(tiny_run) -> None:
    with edited(tiny_run.path("workflow/cnnlens/plotting/training.py")):
        assert planned_jobs(tiny_run) == {"training_figures": 1}
    with edited(tiny_run.path("workflow/cnnlens/plotting/oip.py")):
        jobs = planned_jobs(tiny_run)
    # oip_nodes draws its figures in the search job; the atlas shows the node OIPs
    assert set(jobs) == {"oip_figures_Conv2D_1", "oip_figures_dense_1", "oip_nodes", "atlas_site"}


def test_changing_one_photo_reruns_only_that_photos_dreams(tiny_run) -> None:
    photos = tiny_run.path("photos")
    photos.mkdir(exist_ok=True)
    sample = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    for name in ("first", "second"):
        shutil.copy(sample, photos / f"{name}.jpg")
    override = ("--config", "dream={photos: [photos/first.jpg, photos/second.jpg]}")
    targets = [
        f"results/dreams/{name}/{part}"
        for name in ("first", "second")
        for part in ("layers/dream.png", "fine/overview.png", "maps")
    ]
    try:
        tiny_run.snakemake(*targets, *override)
        assert planned_jobs(tiny_run, *targets, *override) == {}
        with edited(photos / "second.jpg", addition=b"\0"):  # bytes after the JPEG's end
            plan = tiny_run.snakemake("--dry-run", *targets, *override).stdout
            jobs = planned_jobs(tiny_run, *targets, *override)
        assert jobs == {rule: 1 for rule in DREAM_RULES}
        outputs = [line for line in plan.splitlines() if line.strip().startswith("output:")]
        assert all("results/dreams/second/" in line for line in outputs) and len(outputs) == 4
    finally:  # leave the shared tiny run as it was
        shutil.rmtree(photos)
        for name in ("first", "second"):
            for leftover in list(tiny_run.root.glob(f"results/**/{name}*")):
                if leftover.is_dir():
                    shutil.rmtree(leftover)
                elif leftover.exists():
                    leftover.unlink()
