"""Faults, through the real ``snakemake`` command on the tiny configuration: every bad input
stops the run before any job with one line; a killed run resumes with the same command to
identical results; damaged intermediate files and a full disk give one line naming the file.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import TINY_CONFIG, Workspace, make_workspace

from cnnlens import files, integrity, runs
from cnnlens.errors import CnnLensError

ERROR_PREFIX = "cnnlens error: "
MODEL = "results/model/cnn.keras"
OIP_SUMMARY = "results/oips/Conv2D_1/summary.csv"
OIP_SHEET = "results/oips/Conv2D_1/sheet.png"
CHUNK = "results/oips/Conv2D_1/chunks/maps_000-019.npz"
KILL_TIMEOUT_SECONDS = 240


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith(ERROR_PREFIX)]


def assert_one_line_error(result: subprocess.CompletedProcess, *expected: str) -> str:
    """The run failed with exactly one ``cnnlens error:`` line holding ``expected``, and no
    traceback of any kind on the console."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    lines = error_lines(result)
    assert len(lines) == 1, output[-3000:]
    for text in expected:
        assert text in lines[0], lines[0]
    assert "Traceback" not in output and 'File "' not in output, output[-3000:]
    return lines[0]


# ---- bad inputs: stopped before any job (dry runs) ----


def empty_directory(root: Path) -> str:
    (root / "empty").mkdir(exist_ok=True)
    return f"data={{source_dir: {root / 'empty'}}}"


def misnamed_directory(root: Path) -> str:
    folder = root / "misnamed"
    folder.mkdir(exist_ok=True)
    for name in ("train-images.gz", "labels.idx", "mnist.zip"):
        (folder / name).write_bytes(b"x" * 64)
    return f"data={{source_dir: {folder}}}"


BAD_INPUTS: dict[str, tuple[str | Callable[[Path], str], tuple[str, ...]]] = {
    "source_dir empty": (empty_directory, ("data.source_dir", "holds neither")),
    "source_dir misnamed": (misnamed_directory, ("data.source_dir", "t10k-labels-idx1-ubyte")),
    "source_dir missing": ("data={source_dir: /no/such/mnist}", ("data.source_dir", "not a dir")),
    "single_map maps": ("dream={single_map: {maps: [40]}}", ("dream.single_map.maps", "[40]")),
    "fine maps": ("dream={fine: {maps: [32]}}", ("dream.fine.maps", "0..31")),
    "oip colormap": ("oip={colormap: virdis}", ("oip.colormap", "'virdis'")),
    "grid colormap": ("activations={grid: {colormap: Jet}}", ("grid.colormap", "did you mean jet")),
    "difference colormap": (
        "activations={compare: {difference_colormap: rdbu}}",
        ("difference_colormap", "'rdbu'"),
    ),
    "test_indices": ("activations={examples: {test_indices: [300]}}", ("test_indices", "[300]")),
    "validation_size": ("training={validation_size: 600}", ("training.validation_size",)),
    "revival lengths": ("oip={revival: {scales: [2, 3]}}", ("oip.revival",)),
    "snapshot beyond steps": ("oip={snapshot_steps: [0, 13]}", ("oip.snapshot_steps", "[13]")),
    "oip test_images cap": ("oip={test_images: 301}", ("oip.test_images", "300 test images")),
    "top_oip_maps cap": ("dream={single_map: {top_oip_maps: 33}}", ("top_oip_maps", "32 maps")),
    "node maps": ("oip={node_oips: {maps: [200]}}", ("oip.node_oips.maps",)),
    "yaml": ("oip={steps: [1, 2}", ("key oip", "not valid YAML")),
    "type": ("training={epochs: ten}", ("training.epochs", "integer")),
    "unknown key": ("oip={stepz: 3}", ("oip", "stepz")),
    "photo missing": ("dream={photos: [/no/such/photo.jpg]}", ("dream.photos", "photo.jpg")),
}


@pytest.fixture(scope="module")
def dry_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return make_workspace(tmp_path_factory.mktemp("faults_dry"))


@pytest.mark.pipeline
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_a_bad_input_stops_the_dry_run_with_one_line(dry_workspace: Workspace, case: str):
    override, expected = BAD_INPUTS[case]
    value = override(dry_workspace.root) if callable(override) else override
    result = dry_workspace.snakemake("-n", "--config", value, check=False)
    assert_one_line_error(result, *expected)
    assert not dry_workspace.path("results").exists()


# ---- kills: the same command resumes, to identical results ----


def start_snakemake(workspace: Workspace, target: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "snakemake", target, "--cores", "2",
               "--configfile", TINY_CONFIG]
    return subprocess.Popen(
        command, cwd=workspace.root, env=workspace.environment(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def job_processes(workspace: Workspace, script: str) -> list[int]:
    """Pids of the workflow scripts named ``script`` running in ``workspace``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(workspace.root) in arguments and f".{script}.py" in arguments:
            found.append(int(entry.name))
    return found


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def kill_while_running(workspace: Workspace, target: str, script: str, started: str) -> None:
    """Start ``snakemake target``; SIGKILL it while ``script`` runs (its log says
    ``started``); the job must end by itself soon after."""
    run = start_snakemake(workspace, target)
    try:
        wait_for(lambda: job_processes(workspace, script), KILL_TIMEOUT_SECONDS, script)
        logs = workspace.path("results/logs")
        wait_for(
            lambda: any(started in log.read_text() for log in logs.rglob("*.log")),
            KILL_TIMEOUT_SECONDS, f"{script} to log {started!r}",
        )
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        wait_for(lambda: not job_processes(workspace, script), 20, f"{script} to end")
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)


def resume(workspace: Workspace, target: str) -> subprocess.CompletedProcess:
    """The same command again, without --unlock: it must remove the stale lock and finish."""
    result = workspace.snakemake(target)
    assert "removed the lock a killed run left" in result.stderr, result.stderr[-3000:]
    assert not list(workspace.path("results").rglob(".*.*")), "a temporary file remains"
    return result


def history_without_times(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as stream:
        return [
            {key: value for key, value in row.items() if "second" not in key}
            for row in csv.DictReader(stream)
        ]


@pytest.mark.pipeline
def test_a_killed_run_resumes_with_the_same_command_to_identical_results(
    tiny_run: Workspace, fresh_workspace: Workspace
) -> None:
    kill_while_running(fresh_workspace, MODEL, "train", "training on")
    assert not fresh_workspace.path(MODEL).exists()
    resume(fresh_workspace, MODEL)
    for name in ("history.csv",):
        assert history_without_times(fresh_workspace.path(f"results/model/{name}")) == (
            history_without_times(tiny_run.path(f"results/model/{name}"))
        )
    from cnnlens.model import load_cnn

    resumed = load_cnn(fresh_workspace.path(MODEL)).get_weights()
    for one, other in zip(resumed, load_cnn(tiny_run.path(MODEL)).get_weights(), strict=True):
        np.testing.assert_array_equal(one, other)

    kill_while_running(fresh_workspace, OIP_SUMMARY, "oip_search", "OIP search of")
    resume(fresh_workspace, OIP_SUMMARY)
    for path in sorted(tiny_run.path("results/oips/Conv2D_1").glob("map_*.npy")):
        resumed_map = np.load(fresh_workspace.path(f"results/oips/Conv2D_1/{path.name}"))
        np.testing.assert_array_equal(resumed_map, np.load(path))
    assert fresh_workspace.path(OIP_SUMMARY).read_text() == tiny_run.path(OIP_SUMMARY).read_text()


# ---- damaged intermediate files: one line naming the file and the rebuilding command ----


@pytest.fixture
def finished_copy(tiny_run: Workspace, tmp_path: Path) -> Workspace:
    """A copy of the finished tiny run (results and Snakemake's records), to damage."""
    copy = tmp_path / "copy"
    shutil.copytree(tiny_run.root, copy, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    return Workspace(copy)


def truncate_keeping_time(path: Path, keep: float = 0.5) -> None:
    """Cut ``path`` to a fraction of its size and give it back its timestamps, so that
    Snakemake sees nothing new."""
    status = path.stat()
    path.write_bytes(path.read_bytes()[: int(status.st_size * keep)])
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))


@pytest.mark.pipeline
@pytest.mark.parametrize(
    ("damaged", "consumer", "rule"),
    [
        (CHUNK, OIP_SHEET, "oip_figures_Conv2D_1"),
        (MODEL, "results/oips/Conv2D_3/nodes/summary.csv", "oip_nodes"),
        (OIP_SUMMARY, OIP_SUMMARY, "dream_maps"),
    ],
)
def test_a_damaged_intermediate_file_is_named_with_its_rebuild_command(
    finished_copy: Workspace, damaged: str, consumer: str, rule: str
) -> None:
    truncate_keeping_time(finished_copy.path(damaged))
    result = finished_copy.snakemake("--forcerun", rule, check=False)
    assert_one_line_error(result, damaged, f"snakemake --forcerun {damaged}")


@pytest.mark.pipeline
def test_the_rebuild_command_of_a_damaged_chunk_restores_it(
    tiny_run: Workspace, finished_copy: Workspace
) -> None:
    truncate_keeping_time(finished_copy.path(CHUNK))
    finished_copy.snakemake("--forcerun", CHUNK)
    with np.load(finished_copy.path(CHUNK)) as rebuilt, np.load(tiny_run.path(CHUNK)) as first:
        for name in first.files:
            np.testing.assert_array_equal(rebuilt[name], first[name])


# ---- a full disk ----


def mount_nearly_full_results(workspace: Workspace, left_out: str) -> Path:
    """Put the copy's ``results/`` on a small tmpfs with about 20 kB free, without the files
    matching ``left_out`` (so that the job making them runs); skip where mounting fails."""
    results = workspace.path("results")
    saved = workspace.path("results_saved")
    results.rename(saved)
    results.mkdir()
    size_bytes = sum(f.stat().st_size for f in saved.rglob("*") if f.is_file()) + 4_000_000
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(results)],
        capture_output=True, text=True,
    )
    if mounted.returncode != 0:
        results.rmdir()
        saved.rename(results)
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or 'not root'})")
    left = set(saved.glob(left_out))
    shutil.copytree(saved, results, dirs_exist_ok=True, ignore=lambda folder, names: [
        name for name in names if Path(folder) / name in left
    ])
    free = shutil.disk_usage(results).free
    (results / "filler").write_bytes(b"\0" * max(free - 20_000, 0))
    return results


@pytest.mark.pipeline
@pytest.mark.parametrize(
    ("target", "left_out"),
    [(OIP_SHEET, "oips/Conv2D_1/*.png"), (MODEL, "model/cnn.keras")],
)
def test_a_full_disk_gives_one_line_naming_the_file_and_leaves_nothing_half_written(
    finished_copy: Workspace, target: str, left_out: str
) -> None:
    results = mount_nearly_full_results(finished_copy, left_out)
    try:
        result = finished_copy.snakemake(target, check=False)
        line = assert_one_line_error(result, "no space left on the device to write")
        assert str(Path(target).parent) in line and "free some space" in line
        assert not list(results.rglob(".*.*")), "a temporary file remains"
    finally:
        subprocess.run(["umount", "-l", str(results)], check=False)


# ---- the parts, without the pipeline ----


def test_a_damaged_zip_names_the_file_and_the_rebuild_command(tmp_path: Path) -> None:
    path = tmp_path / "chunk.npz"
    files.save_arrays(path, {"a": np.arange(1000)})
    truncate_keeping_time(path, keep=0.7)
    with pytest.raises(CnnLensError) as raised:
        integrity.check_zip(path)
    assert f"snakemake --forcerun {path}" in str(raised.value)
    with pytest.raises(CnnLensError, match="is damaged"):
        files.load_arrays(path)


def test_damaged_arrays_and_tables_are_named(tmp_path: Path) -> None:
    array, table = tmp_path / "a.npy", tmp_path / "t.csv"
    files.save_array(array, np.arange(100.0))
    files.write_csv(table, [{"map": k, "objective": 0.5 * k} for k in range(20)])
    for path in (array, table):
        truncate_keeping_time(path, keep=0.6)
    for load, path in ((files.load_array, array), (files.read_csv, table)):
        with pytest.raises(CnnLensError, match=f"{path.name}: it is damaged"):
            load(path)


def test_a_full_disk_while_writing_names_the_file_and_removes_the_temporary(
    tmp_path: Path,
) -> None:
    target = tmp_path / "cnn.keras"
    with pytest.raises(CnnLensError, match=f"no space left on the device to write {target}"):
        with files.atomic_path(target) as temporary:
            temporary.write_bytes(b"half")
            raise OSError(28, "No space left on device", str(temporary))
    assert list(tmp_path.iterdir()) == []


def test_a_temporary_file_left_by_a_killed_writer_goes_with_the_next_write(
    tmp_path: Path,
) -> None:
    left = tmp_path / ".map_001.k3j_x9a2.png"
    other = tmp_path / ".map_001_evolution.k3j_x9a2.png"
    left.write_bytes(b"")
    other.write_bytes(b"")
    files.write_text(tmp_path / "map_001.png", "complete")
    assert not left.exists() and other.exists()


def test_a_stale_lock_is_removed_only_when_no_recorded_run_is_alive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runs.atexit, "register", lambda *args, **kwargs: None)
    locks = tmp_path / ".snakemake" / "locks"
    temporary = tmp_path / "results" / "model" / ".cnn.abcd_123.keras"
    temporary.parent.mkdir(parents=True)
    temporary.write_bytes(b"")
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead = runs.Run(runs.this_run().host, int(finished.stdout), "1")
    alive = runs.Run(runs.this_run().host, os.getppid(), runs.process_start_time(os.getppid()))
    for run in (dead, alive):
        run.record.parent.mkdir(parents=True, exist_ok=True)
        run.record.write_text(run.started)
        locks.mkdir(parents=True, exist_ok=True)
        (locks / "0.input.lock").write_text("results/x\n")
    assert runs.start() == [] and (locks / "0.input.lock").exists()
    assert not dead.record.exists()
    alive.record.unlink()
    notes = runs.start()
    assert len(notes) == 2 and not locks.exists() and not temporary.exists()


SCRIPT = """
import sys
from cnnlens.runtime import script_run
with script_run(sys.argv[1]):
    {body}
"""


def test_a_finished_script_exits_quietly_and_logs_its_cpu_seconds(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(SCRIPT.format(body="sum(range(10**6))"))
    environment = dict(os.environ, PYTHONPATH=str(Path(files.__file__).parents[1]))
    result = subprocess.run([sys.executable, str(script), str(tmp_path / "job.log")],
                            capture_output=True, text=True, env=environment)
    assert result.returncode == 0 and result.stderr == ""
    last = (tmp_path / "job.log").read_text().splitlines()[-1]
    assert re.search(r"finished in [\d.]+ s; [\d.]+ CPU s in all$", last), last


@pytest.mark.parametrize(
    ("body", "status", "expected", "logged"),
    [
        ("raise OSError(28, 'No space', 'results/x.png')", 1, "no space left", "results/x.png"),
        ("raise KeyboardInterrupt", 130, "interrupted (Ctrl-C)", "interrupted"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)", 143, "SIGTERM", "stopped"),
        ("{}['missing']", 1, "unexpected KeyError", "Traceback"),
    ],
)
def test_a_script_ends_with_one_console_line(
    tmp_path: Path, body: str, status: int, expected: str, logged: str
) -> None:
    script = tmp_path / "job.py"
    script.write_text(SCRIPT.format(body=body))
    environment = dict(os.environ, PYTHONPATH=str(Path(files.__file__).parents[1]))
    result = subprocess.run([sys.executable, str(script), str(tmp_path / "job.log")],
                            capture_output=True, text=True, env=environment)
    assert result.returncode == status
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX) and expected in lines[0]
    assert logged in (tmp_path / "job.log").read_text()
