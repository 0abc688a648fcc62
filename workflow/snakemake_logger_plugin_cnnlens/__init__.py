"""Snakemake logger plugin ``cnnlens``: a quiet console, one line per finished job.

The default profile selects it (``logger: [cnnlens]``). On the console it prints

- one line when the jobs are known: how many will run (and again when a checkpoint adds jobs);
- one line per finished job: ``[ 5/56] train (2 min 11 s)``;
- a failed job's rule, wildcards and log path, then the end of its log (``show-failed-logs``);
- Snakemake's warnings and errors, and its few closing messages (``Nothing to be done``,
  ``Complete log(s): ...``).

Snakemake's full job blocks (rule, input, output, reason, command, resources) still go to
``.snakemake/log/*.snakemake.log``: that file handler is Snakemake's own and ignores this
plugin. A dry run (``-n``) and ``--verbose`` print everything as Snakemake's own console does.

Snakemake finds the plugin by its package name (``snakemake_logger_plugin_*`` on the import
path); ``pip install -e .`` installs it next to the ``cnnlens`` library.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass

from snakemake_interface_logger_plugins.base import LogHandlerBase
from snakemake_interface_logger_plugins.common import LogEvent

# Scheduler chatter repeated many times per run; the file log keeps it.
CHATTER_PREFIXES = (
    "Building DAG of jobs",
    "Using shell:",
    "Provided cores:",
    "Provided resources:",
    "Rules claiming more threads",
    "Select jobs to execute",
    "Execute ",
    "Assuming unrestricted shared filesystem",
    "Conda environments: ignored",
    "Singularity containers: ignored",
    "DAG of jobs will be updated",
    "Updating checkpoint dependencies",
    "Waiting for more resources",
)
# Events that never reach the quiet console.
SILENT_EVENTS = frozenset(
    {
        LogEvent.WORKFLOW_STARTED,
        LogEvent.SHELLCMD,
        LogEvent.JOB_STARTED,
        LogEvent.GROUP_INFO,
        LogEvent.RESOURCES_INFO,
        LogEvent.DEBUG_DAG,
        LogEvent.RULEGRAPH,
    }
)
# Lines of a failed job's log shown on the console (the whole log stays in its file).
FAILED_LOG_LINES = 60


@dataclass
class JobLabel:
    """What the console says about one job: its rule, wildcards, log and start time."""

    rule: str
    wildcards: str
    logs: list[str]
    started: float

    def text(self) -> str:
        return f"{self.rule} {self.wildcards}".rstrip()


class LogHandler(LogHandlerBase):
    """The quiet console: replaces Snakemake's stream handler (not its log file)."""

    def __post_init__(self) -> None:
        from snakemake.logging import DefaultFilter, DefaultFormatter

        settings = self.common_settings
        self.stream = sys.stdout if settings.stdout else sys.stderr
        self.full_formatter = DefaultFormatter(settings.quiet, settings.show_failed_logs)
        self.full_filter = DefaultFilter(
            settings.quiet, settings.debug_dag, settings.verbose, settings.dryrun,
            settings.printshellcmds,
        )
        self.pass_through = bool(settings.dryrun or settings.verbose)
        self.quiet = {str(value) for value in (settings.quiet or ())}  # --quiet all/progress
        self.jobs: dict[int, JobLabel] = {}
        self.finished: list[int] = []
        self.announced_total: int | None = None

    @property
    def writes_to_stream(self) -> bool:
        return True

    @property
    def writes_to_file(self) -> bool:
        return False

    @property
    def has_filter(self) -> bool:
        return True

    @property
    def has_formatter(self) -> bool:
        return True

    @property
    def needs_rulegraph(self) -> bool:
        return False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.pass_through:
                self._print_as_snakemake(record)
            elif "all" in self.quiet:
                return
            else:
                for line in self._quiet_lines(record):
                    self._write(line)
        except Exception:  # a console problem must never stop the workflow
            self.handleError(record)

    def _print_as_snakemake(self, record: logging.LogRecord) -> None:
        """Snakemake's own console output (dry runs, --verbose)."""
        if self.full_filter.filter(record):
            text = self.full_formatter.format(record)
            if text and text != "None":
                self._write(text)

    def _quiet_lines(self, record: logging.LogRecord) -> list[str]:
        """The console lines for one record (often none)."""
        event = getattr(record, "event", None)
        if event in SILENT_EVENTS:
            return []
        handlers = {
            LogEvent.JOB_INFO: self._remember_job,
            LogEvent.JOB_FINISHED: self._job_finished,
            LogEvent.PROGRESS: self._progress_lines,
            LogEvent.RUN_INFO: self._run_info_lines,
            LogEvent.JOB_ERROR: self._job_error_lines,
            LogEvent.GROUP_ERROR: self._group_error_lines,
        }
        if event in handlers:
            return handlers[event](record)
        return self._plain_message_lines(record)

    def _remember_job(self, record: logging.LogRecord) -> list[str]:
        wildcards = getattr(record, "wildcards", None) or {}
        self.jobs[record.jobid] = JobLabel(
            rule=record.rule_name,
            wildcards=" ".join(f"{key}={value}" for key, value in wildcards.items()),
            logs=list(getattr(record, "log", None) or []),
            started=time.monotonic(),
        )
        return []

    def _job_finished(self, record: logging.LogRecord) -> list[str]:
        self.finished.append(record.job_id)
        return []

    def _progress_lines(self, record: logging.LogRecord) -> list[str]:
        """One line per job finished since the last progress record."""
        done, total = record.done, record.total
        width = len(str(total))
        finished, self.finished = self.finished, []
        if "progress" in self.quiet:  # --quiet progress (or plain --quiet)
            return []
        lines = []
        for offset, jobid in enumerate(finished):
            number = done - len(finished) + offset + 1
            label = self.jobs.pop(jobid, None)
            text = label.text() if label else f"job {jobid}"
            seconds = f" ({_duration(time.monotonic() - label.started)})" if label else ""
            lines.append(f"[{number:>{width}}/{total}] {text}{seconds}")
        return lines

    def _run_info_lines(self, record: logging.LogRecord) -> list[str]:
        """The job-stats table as one line (repeated only when the total changes)."""
        stats = getattr(record, "stats", None)
        if not stats:
            return [str(record.msg)] if record.msg else []
        total = stats.get("total", 0)
        if total == self.announced_total:
            return []
        self.announced_total = total
        return [f"{total} job{'' if total == 1 else 's'} to run (details: .snakemake/log/)"]

    def _job_error_lines(self, record: logging.LogRecord) -> list[str]:
        wildcards = self.jobs.get(record.jobid)
        where = wildcards.text() if wildcards else record.rule_name
        logs = list(record.log or [])
        lines = [f"FAILED: {where} (job {record.jobid}); log: {', '.join(logs) or 'none'}"]
        if record.rule_msg:
            lines.append(f"    {record.rule_msg}")
        for key, value in (getattr(record, "aux", None) or {}).items():
            lines.append(f"    {key}: {value}")
        if self.common_settings.show_failed_logs:
            lines.extend(_log_tails(logs))
        return lines

    def _group_error_lines(self, record: logging.LogRecord) -> list[str]:
        text = self.full_formatter.format(record)
        return [text] if text else []

    def _plain_message_lines(self, record: logging.LogRecord) -> list[str]:
        """Warnings and errors always; informative messages unless they are chatter."""
        message = record.getMessage() if record.msg is not None else ""
        if not message or message == "None":
            return []
        if record.levelno < logging.WARNING and message.startswith(CHATTER_PREFIXES):
            return []
        return [message]

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def _duration(seconds: float) -> str:
    """``4.2 s``, ``2 min 11 s``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def _log_tails(logs: list[str]) -> list[str]:
    """The last lines of each log, framed, with how many lines were left out."""
    lines = []
    for path in logs:
        try:
            with open(path, errors="replace") as log_file:
                content = log_file.read().splitlines()
        except OSError as error:
            lines.append(f"    (cannot read {path}: {error.strerror})")
            continue
        skipped = max(0, len(content) - FAILED_LOG_LINES)
        header = f"---- {path}" + (f" (last {FAILED_LOG_LINES} of {len(content)} lines)"
                                   if skipped else "")
        lines.extend([header, *content[skipped:], "----"])
    return lines
