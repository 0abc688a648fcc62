"""Benchmark of the whole default pipeline (issue 14): one run in a fresh directory.

It copies the repository's workflow files into a new directory (as the tests' workspaces do),
runs ``snakemake`` there with the default configuration and the default profile, and reads
everything it reports from that run's own files:

- wall time of the run, and of a second ``snakemake`` with nothing to do;
- CPU seconds per stage and per rule, from ``results/benchmarks/**/*.tsv`` (each benchmark
  file is tied to its rule by the job blocks of ``.snakemake/log/*.snakemake.log``), and
  exactly, from the line each job's log ends with (its process's rusage, imports included);
- the machine's speed: a float32 matrix product on all cores, in GFLOP/s, before the run (the
  same code runs about as much slower as this is lower);
- job counts (all jobs, and per rule) and the console's length in lines;
- optionally (``--report``) the time and size of ``snakemake --report results/report.zip``.

It prints a table and, unless ``--no-readme``, writes it into ``benchmarks/README.md``
between the ``pipeline.py`` markers. The load average is printed before and after: on a shared
machine the times are only as good as the load allows.

    python benchmarks/pipeline.py [--cores 2] [--directory /tmp/run] [--report] [--json out.json]
    python benchmarks/pipeline.py --measured-run /tmp/run     # re-measure a kept run
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from pipeline_tables import (
    README,
    PipelineRun,
    RuleCost,
    markdown,
    write_into_readme,
)

REPOSITORY = Path(__file__).resolve().parents[1]
CPU_USED = {"seconds": 0.0}  # of the last snakemake command
# Snakemake samples a job's CPU time every 0.5 s for its first 15 s, then every 30 s: the
# benchmark files miss up to 30 s x threads of CPU of a job that ran longer than this.
SAMPLED_AFTER_SECONDS = 15.0
# Stage of a rule, by the start of its name (any other rule is its own stage).
STAGE_PREFIXES = (
    ("prepare_data", "data"),
    ("training", "training"),
    ("train", "training"),
    ("select_examples", "activations"),
    ("activation", "activations"),
    ("compare_classes", "activations"),
    ("oip", "oips"),
    ("dream", "dreams"),
    ("atlas", "atlas"),
)
JOB_HEADER = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
JOB_BENCHMARK = re.compile(r"^\s+benchmark: (\S+)$")
JOB_LOG = re.compile(r"^\s+log: (\S+)$")
# The last line of a job's log (cnnlens.runtime.script_run): its process's CPU seconds.
LOGGED_CPU = re.compile(r"finished in [\d.]+ s; ([\d.]+) CPU s in all$", flags=re.MULTILINE)


def stage_of(rule: str) -> str:
    for prefix, stage in STAGE_PREFIXES:
        if rule.startswith(prefix):
            return stage
    return rule


def stage_order(stage: str) -> int:
    """Stages in the order the pipeline runs them; others last."""
    stages = list(dict.fromkeys(stage for _, stage in STAGE_PREFIXES))
    return stages.index(stage) if stage in stages else len(stages)


def fresh_directory(directory: Path) -> Path:
    """A copy of the repository's workflow files in ``directory`` (the tests' workspace)."""
    sys.path.insert(0, str(REPOSITORY / "tests"))
    from conftest import make_workspace

    if directory.exists():
        shutil.rmtree(directory)
    return make_workspace(directory).root


def snakemake(root: Path, *arguments: str) -> tuple[float, str, int]:
    """Run ``snakemake`` in ``root`` with its own library first on the import path; returns
    the wall seconds, the console output (stdout and stderr) and the exit status. The CPU
    seconds of it and all its jobs are added to ``CPU_USED["seconds"]``."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(root / "workflow"), *filter(None, [environment.get("PYTHONPATH")])]
    )
    command = [sys.executable, "-m", "snakemake", *arguments]
    started, cpu = time.perf_counter(), children_cpu_seconds()
    result = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    CPU_USED["seconds"] = children_cpu_seconds() - cpu
    return seconds, result.stdout + result.stderr, result.returncode


def children_cpu_seconds() -> float:
    """User and system CPU seconds of every finished child process (and theirs), so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def job_files(snakemake_log: Path) -> list[tuple[str, str, str | None]]:
    """(rule, benchmark file, log file or None) of every job with a benchmark file, from the
    job blocks of Snakemake's log of the run."""
    jobs, current, log = [], None, None
    for line in snakemake_log.read_text().splitlines():
        header = JOB_HEADER.match(line)
        if header:
            current, log = header.group(1), None
            continue
        logged = JOB_LOG.match(line)
        if logged and current:
            log = logged.group(1)
        benchmark = JOB_BENCHMARK.match(line)
        if benchmark and current:
            jobs.append((current, benchmark.group(1), log))
    return jobs


def logged_cpu_seconds(log_file: Path) -> float:
    """The CPU seconds a job's log ends with (0 when it has no such line)."""
    found = LOGGED_CPU.findall(log_file.read_text()) if log_file.is_file() else []
    return float(found[-1]) if found else 0.0


def rule_costs(root: Path, snakemake_log: Path) -> list[RuleCost]:
    """Jobs, wall and CPU seconds per rule, from the run's benchmark files and job logs."""
    costs: dict[str, RuleCost] = {}
    for rule, benchmark, log in job_files(snakemake_log):
        with open(root / benchmark) as table:
            row = next(csv.DictReader(table, delimiter="\t"))
        cost = costs.setdefault(rule, RuleCost(rule, stage_of(rule)))
        cost.jobs += 1
        cost.seconds += float(row["s"])
        cost.cpu_seconds += float(row["cpu_time"])
        cost.long_jobs += float(row["s"]) > SAMPLED_AFTER_SECONDS
        cost.logged_cpu_seconds += logged_cpu_seconds(root / log) if log else 0.0
    return sorted(costs.values(), key=lambda cost: (stage_order(cost.stage), -cost.cpu_seconds))


def machine_gflops(size: int = 2048, repeats: int = 10) -> float:
    """GFLOP/s of a float32 matrix product on all cores (NumPy), the best of ``repeats``."""
    import numpy as np

    generator = np.random.default_rng(0)
    left, right = (generator.random((size, size), dtype=np.float32) for _ in range(2))
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        left @ right
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def finished_jobs(snakemake_log: Path) -> int:
    """Jobs Snakemake reports finished in its log (rule ``all`` included)."""
    return len(re.findall(r"^Finished jobid: ", snakemake_log.read_text(), flags=re.MULTILINE))


def timed_report(root: Path) -> tuple[float, float] | str:
    """Seconds to build the report (a zip, as the README builds it) and its size in MB, or
    why it failed."""
    report = root / "results" / "report.zip"
    seconds, output, status = snakemake(root, "--report", str(report))
    if status != 0:
        return f"snakemake --report failed: {output.strip().splitlines()[-1]}"
    return seconds, report.stat().st_size / 1e6


def elapsed_seconds(console: str) -> float:
    """Snakemake's own ``Elapsed time: H:MM:SS.ffffff`` line, in seconds."""
    found = re.findall(r"^Elapsed time: (\d+):(\d+):([\d.]+)$", console, flags=re.MULTILINE)
    if not found:
        raise SystemExit("the run's console has no 'Elapsed time' line: did it finish?")
    hours, minutes, seconds = found[-1]
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def run_pipeline(root: Path, cores: int) -> tuple[float, str]:
    """The default run in ``root``: its wall seconds and console (also kept in console.txt)."""
    wall, console, status = snakemake(root, "--cores", str(cores))
    (root / "console.txt").write_text(console)
    (root / "run_cpu_seconds.txt").write_text(f"{CPU_USED['seconds']:.1f}\n")
    if status != 0:
        raise SystemExit(f"the default run in {root} failed ({status}):\n{console[-4000:]}")
    return wall, console


def measure(root: Path, cores: int, wall: float, console: str, with_report: bool,
            load_before: tuple[float, float, float]) -> PipelineRun:
    """A finished run's figures from its files, its no-op rerun and (optionally) the report."""
    snakemake_log = sorted((root / ".snakemake" / "log").glob("*.snakemake.log"))[0]
    noop, noop_console, _ = snakemake(root, "--cores", str(cores))
    run = PipelineRun(
        cores=cores,
        wall_seconds=wall,
        noop_seconds=noop,
        noop_had_nothing_to_do="Nothing to be done" in noop_console,
        console_lines=len(console.splitlines()),
        jobs=finished_jobs(snakemake_log),
        rules=rule_costs(root, snakemake_log),
        load_before=load_before,
        load_after=os.getloadavg(),
    )
    cpu_file = root / "run_cpu_seconds.txt"
    if cpu_file.is_file():
        run.run_cpu_seconds = float(cpu_file.read_text())
    if with_report:
        report = timed_report(root)
        if isinstance(report, str):
            run.notes.append(report)
        else:
            run.report_seconds, run.report_megabytes = report
    return run


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--directory", type=Path, default=None,
                        help="where to run (replaced if it exists); default: a new temporary "
                             "directory, removed afterwards")
    parser.add_argument("--measured-run", type=Path, default=None,
                        help="measure this finished benchmark run (its console.txt and files) "
                             "instead of running the pipeline again")
    parser.add_argument("--report", action="store_true", help="also time snakemake --report")
    parser.add_argument("--json", type=Path, default=None, help="write the measures here")
    parser.add_argument("--no-readme", action="store_true",
                        help="do not write the table into benchmarks/README.md")
    return parser.parse_args()


def benchmark(arguments: argparse.Namespace) -> PipelineRun:
    """Run the pipeline in a fresh directory (or take a finished run) and measure it."""
    load_before = os.getloadavg()
    if arguments.measured_run:
        root = arguments.measured_run
        console = (root / "console.txt").read_text()
        run = measure(root, arguments.cores, elapsed_seconds(console), console,
                      arguments.report, load_before)
        run.notes.append("Measured from a kept run (wall time: Snakemake's 'Elapsed time'); "
                         "the load averages are those when it was measured, not during the run.")
        return run
    gflops = machine_gflops()
    scratch = None if arguments.directory else tempfile.mkdtemp(prefix="cnnlens_pipeline_")
    root = fresh_directory(arguments.directory or Path(scratch) / "run")
    print(f"running the default pipeline in {root} on {arguments.cores} cores ...", flush=True)
    wall, console = run_pipeline(root, arguments.cores)  # a failed run's directory is kept
    run = measure(root, arguments.cores, wall, console, arguments.report, load_before)
    run.machine_gflops = gflops
    if scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    return run


def main() -> None:
    arguments = parse_arguments()
    run = benchmark(arguments)
    table = markdown(run)
    print(table)
    if arguments.json:
        measures = asdict(run) | {"cpu_seconds": run.cpu_seconds,
                                  "cpu_without_training": run.cpu_without_training,
                                  "logged_cpu_without_training": run.logged_cpu_without_training}
        arguments.json.write_text(json.dumps(measures, indent=2))
    if not arguments.no_readme:
        write_into_readme(table)
        print(f"table written into {README}")


if __name__ == "__main__":
    main()
