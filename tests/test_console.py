"""The quiet console of the default profile (logger plugin ``cnnlens``): one line per finished
job, a failed job's log shown, and Snakemake's full job blocks kept in its log file. (A real
failing job's console is checked in test_dream.py, by the bad-photo run.)"""

from __future__ import annotations

import io
import logging
import re
from types import SimpleNamespace

import pytest
from snakemake_interface_logger_plugins.common import LogEvent
from snakemake_logger_plugin_cnnlens import FAILED_LOG_LINES, LogHandler

JOB_BLOCK = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$", re.MULTILINE)
FINISHED_LINE = re.compile(r"^\[\s*(\d+)/(\d+)\] (\w+)", re.MULTILINE)


def quiet_console(dryrun: bool = False) -> tuple[LogHandler, io.StringIO]:
    settings = SimpleNamespace(
        printshellcmds=True, nocolor=True, quiet=None, debug_dag=False, verbose=False,
        show_failed_logs=True, stdout=False, dryrun=dryrun,
    )
    handler = LogHandler(settings, None)
    handler.stream = io.StringIO()
    return handler, handler.stream


def record(message: str | None = None, level: int = logging.INFO, **extra) -> logging.LogRecord:
    return logging.makeLogRecord(
        {"msg": message, "levelno": level, "levelname": logging.getLevelName(level), **extra}
    )


def job_info(jobid: int, rule: str, **wildcards) -> logging.LogRecord:
    return record(
        f"Rule: {rule}", event=LogEvent.JOB_INFO, jobid=jobid, rule_name=rule, rule_msg=None,
        wildcards=wildcards, log=[f"results/logs/{rule}.log"], local=True, is_checkpoint=False,
        input=["in.npy"], output=["out.npy"], benchmark=None, reason="Missing output files",
        resources={}, priority=0, threads=1, indent=False,
    )


def test_a_finished_job_is_one_line_and_chatter_is_dropped() -> None:
    handler, console = quiet_console()
    for item in (
        record("Building DAG of jobs..."),
        record("Job stats: ...", event=LogEvent.RUN_INFO, stats={"train": 1, "total": 2}),
        record("Select jobs to execute..."),
        job_info(3, "activation_figures", index="150"),
        record("Shell command: None", event=LogEvent.SHELLCMD, shellcmd=None),
        record("Finished jobid: 3", event=LogEvent.JOB_FINISHED, job_id=3),
        record(None, event=LogEvent.PROGRESS, done=1, total=2),
        record("a warning worth seeing", level=logging.WARNING),
    ):
        handler.emit(item)
    lines = console.getvalue().splitlines()
    assert lines[0] == "2 jobs to run (details: .snakemake/log/)"
    assert re.fullmatch(r"\[1/2\] activation_figures index=150 \(\d+\.\d s\)", lines[1])
    assert lines[2:] == ["a warning worth seeing"]


def test_a_failed_job_shows_the_end_of_its_log(tmp_path) -> None:
    log = tmp_path / "train.log"
    log.write_text("".join(f"log line {number}\n" for number in range(1, 101)))
    handler, console = quiet_console()
    handler.emit(job_info(7, "train"))
    handler.emit(record(
        "Error in rule train", level=logging.ERROR, event=LogEvent.JOB_ERROR, jobid=7,
        rule_name="train", rule_msg=None, log=[str(log)], aux={},
    ))
    text = console.getvalue()
    assert text.startswith(f"FAILED: train (job 7); log: {log}\n")
    assert f"(last {FAILED_LOG_LINES} of 100 lines)" in text
    assert "log line 100\n" in text and f"log line {100 - FAILED_LOG_LINES + 1}\n" in text
    assert f"log line {100 - FAILED_LOG_LINES}\n" not in text


def test_a_dry_run_prints_snakemakes_own_job_blocks() -> None:
    handler, console = quiet_console(dryrun=True)
    handler.emit(job_info(1, "train"))
    assert "rule train:" in console.getvalue()
    assert "reason: Missing output files" in console.getvalue()


@pytest.mark.pipeline
def test_the_tiny_run_prints_a_line_per_job_and_logs_every_job_block(tiny_run) -> None:
    lines = tiny_run.console.splitlines()
    finished = FINISHED_LINE.findall(tiny_run.console)
    total = int(finished[-1][1])
    assert [int(number) for number, _, _ in finished] == list(range(1, total + 1))
    assert len(lines) <= total + 8, tiny_run.console
    assert not JOB_BLOCK.search(tiny_run.console) and "reason:" not in tiny_run.console
    snakemake_log = sorted(tiny_run.path(".snakemake/log").glob("*.snakemake.log"))[0].read_text()
    logged_rules = JOB_BLOCK.findall(snakemake_log)
    assert sorted(logged_rules) == sorted(rule for _, _, rule in finished)
    assert snakemake_log.count("    reason: ") == total
    assert snakemake_log.count("Shell command: ") == total
