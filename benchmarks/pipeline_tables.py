"""The pipeline benchmark's measures (:class:`PipelineRun`) and its Markdown tables, judged
against issue 14's targets; written into ``benchmarks/README.md`` between the markers.
``pipeline.py`` measures, this module reports."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"
TABLE_START = "<!-- pipeline.py: start -->"
TABLE_END = "<!-- pipeline.py: end -->"
# The targets: CPU seconds of every job but training, the run, the no-op rerun.
TARGETS = {"cpu_without_training": 150.0, "wall": 240.0, "noop": 3.0, "jobs": 60, "console": 150}
TRAINING_RULE = "train"


@dataclass
class RuleCost:
    """What the jobs of one rule took, summed from their benchmark files."""

    rule: str
    stage: str
    jobs: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    long_jobs: int = 0  # jobs over SAMPLED_AFTER_SECONDS: their CPU time is a lower bound
    logged_cpu_seconds: float = 0.0  # from the jobs' logs: exact (0 for rule ``all``)


@dataclass
class PipelineRun:
    """Everything measured in one benchmark run."""

    cores: int
    wall_seconds: float
    noop_seconds: float
    noop_had_nothing_to_do: bool
    console_lines: int
    jobs: int
    rules: list[RuleCost]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    run_cpu_seconds: float | None = None  # Snakemake and all its jobs (rusage); None: unknown
    machine_gflops: float | None = None  # float32 matrix product on all cores, before the run
    report_seconds: float | None = None
    report_megabytes: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def cpu_seconds(self) -> float:
        return sum(rule.cpu_seconds for rule in self.rules)

    @property
    def cpu_without_training(self) -> float:
        return sum(rule.cpu_seconds for rule in self.rules if rule.rule != TRAINING_RULE)

    @property
    def logged_cpu_without_training(self) -> float:
        return sum(rule.logged_cpu_seconds for rule in self.rules if rule.rule != TRAINING_RULE)


def judged(measure: str, shown: str, value: float, target: str) -> tuple[str, str, str, str]:
    """A (measure, value, target, verdict) row for the measure of ``TARGETS[target]``."""
    limit = TARGETS[target]
    unit = "" if target in ("jobs", "console") else " s"
    return measure, shown, f"<= {limit:g}{unit}", "met" if value <= limit else "missed"


def summary_rows(run: PipelineRun) -> list[tuple[str, str, str, str]]:
    """(measure, value, target, verdict) rows."""
    cpu = "cpu_without_training"
    rows = [
        judged("whole default run, wall", f"{run.wall_seconds:.0f} s", run.wall_seconds, "wall"),
        ("CPU seconds of all jobs (benchmark files)", f"{run.cpu_seconds:.0f} s", "", ""),
        judged("CPU seconds of all jobs except training (benchmark files)",
               f"{run.cpu_without_training:.0f} s", run.cpu_without_training, cpu),
    ]
    if run.logged_cpu_without_training:
        rows.append(judged("CPU seconds of all jobs except training (the jobs' logs: exact)",
                           f"{run.logged_cpu_without_training:.0f} s",
                           run.logged_cpu_without_training, cpu))
    if run.run_cpu_seconds is not None:
        without_training = run.run_cpu_seconds - (run.cpu_seconds - run.cpu_without_training)
        rows += [
            ("CPU seconds of the whole run (Snakemake and every job; rusage)",
             f"{run.run_cpu_seconds:.0f} s", "", ""),
            judged("the same minus training's benchmark figure", f"{without_training:.0f} s",
                   without_training, cpu),
        ]
    noop = judged("rerun with nothing to do, wall", f"{run.noop_seconds:.1f} s",
                  run.noop_seconds, "noop")
    rows += [
        judged("jobs (rule `all` included)", str(run.jobs), run.jobs, "jobs"),
        judged("console lines", str(run.console_lines), run.console_lines, "console"),
        (*noop[:3], noop[3] + ("" if run.noop_had_nothing_to_do else " (it found work!)")),
    ]
    if run.report_seconds is not None:
        size = f"{run.report_seconds:.0f} s, {run.report_megabytes:.1f} MB"
        rows.append(("`snakemake --report results/report.zip`", size, "", ""))
    return rows


def stage_rows(run: PipelineRun) -> list[tuple[str, int, float, float, float]]:
    """(stage, jobs, wall seconds summed over jobs, CPU seconds from the benchmark files and
    from the logs) per stage, in run order."""
    stages: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for rule in run.rules:
        totals = stages[rule.stage]
        totals[0] += rule.jobs
        totals[1] += rule.seconds
        totals[2] += rule.cpu_seconds
        totals[3] += rule.logged_cpu_seconds
    return [(stage, int(jobs), seconds, cpu, logged)
            for stage, (jobs, seconds, cpu, logged) in stages.items()]


def markdown(run: PipelineRun) -> str:
    """The benchmark's tables as Markdown."""
    load = "{:.1f} {:.1f} {:.1f}"
    speed = (f"; a float32 matrix product on all cores runs at {run.machine_gflops:.0f} GFLOP/s"
             if run.machine_gflops else "")
    lines = [
        (f"{run.cores} cores{speed}; load average (1, 5, 15 min) "
         f"{load.format(*run.load_before)} before the run, "
         f"{load.format(*run.load_after)} after it."),
        "",
        "| measure | value | target | |",
        "| --- | ---: | ---: | --- |",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in summary_rows(run)],
        "",
        "| stage | jobs | job seconds (sum) | CPU seconds (benchmark files) | CPU seconds (logs) |",
        "| --- | ---: | ---: | ---: | ---: |",
        *[f"| {stage} | {jobs} | {seconds:.0f} | {cpu:.0f} | {logged:.0f} |"
          for stage, jobs, seconds, cpu, logged in stage_rows(run)],
        "",
        ("| rule | stage | jobs | CPU seconds (benchmark files) | CPU seconds (logs) "
         "| CPU seconds per job (logs) | jobs over 15 s |"),
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        *[f"| {rule.rule} | {rule.stage} | {rule.jobs} | {rule.cpu_seconds:.1f} | "
          f"{rule.logged_cpu_seconds:.1f} | {rule.logged_cpu_seconds / rule.jobs:.1f} | "
          f"{rule.long_jobs or ''} |" for rule in run.rules],
        "",
        ("CPU seconds from the benchmark files are lower bounds for jobs over 15 s: Snakemake "
         "samples a job's CPU time every 0.5 s for 15 s, then every 30 s. The logs' figure is "
         "each job's own rusage at its end: interpreter, Snakemake's preamble, imports and work."),
        *(["", *run.notes] if run.notes else []),
    ]
    return "\n".join(lines)


def write_into_readme(table: str, readme: Path = README) -> None:
    """Replace the text between the pipeline.py markers of the benchmarks' README."""
    text = readme.read_text()
    if TABLE_START not in text or TABLE_END not in text:
        raise SystemExit(f"{readme} has no {TABLE_START} ... {TABLE_END} markers")
    before, rest = text.split(TABLE_START, 1)
    after = rest.split(TABLE_END, 1)[1]
    readme.write_text(f"{before}{TABLE_START}\n{table}\n{TABLE_END}{after}")
