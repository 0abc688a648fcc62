"""The Snakemake runs of a working directory, and what a killed one left behind.

Snakemake locks the working directory while it runs (``.snakemake/locks/``) and removes the
lock when it ends, also after Ctrl-C or SIGTERM. A run killed with SIGKILL (or by a power
cut) cannot: the next run would stop at the stale lock until ``snakemake --unlock``. Each run
of this workflow therefore records itself (``.snakemake/cnnlens/runs/{host}-{pid}``, with the
process's start time, so that a reused pid is not mistaken for it) and removes its record when
it ends. A new run that finds no other recorded run alive on this machine, and none on
another machine, knows that every lock and every hidden temporary file under ``results/``
(:func:`cnnlens.files.atomic_path`) was left by a killed run, and removes them.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

STATE = Path(".snakemake")
RUNS = STATE / "cnnlens" / "runs"
LOCKS = STATE / "locks"
RESULTS = Path("results")
#: Temporary files of atomic writes: ``.{stem}.{8 characters}{suffix}``.
TEMPORARY_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}(\.[A-Za-z0-9]+)?$")


@dataclass(frozen=True)
class Run:
    """One recorded run: its machine, process id and process start time."""

    host: str
    pid: int
    started: str

    @property
    def record(self) -> Path:
        return RUNS / f"{self.host}-{self.pid}"

    def alive(self) -> bool:
        """True unless this run is known to have ended (runs on other machines count as
        alive: their processes cannot be seen from here)."""
        if self.host != socket.gethostname():
            return True
        return process_start_time(self.pid) == self.started


def process_start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot), None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def this_run() -> Run:
    pid = os.getpid()
    return Run(socket.gethostname(), pid, process_start_time(pid) or "unknown")


def recorded_runs() -> list[Run]:
    """Every run recorded in this directory (unreadable records are skipped)."""
    runs = []
    for record in RUNS.glob("*-*") if RUNS.is_dir() else ():
        host, _, pid = record.name.rpartition("-")
        with contextlib.suppress(OSError, ValueError):
            runs.append(Run(host, int(pid), record.read_text().strip()))
    return runs


def start() -> list[str]:
    """Record this run; if no other run is alive, remove what killed runs left behind.

    Returns one line per kind of thing removed, for the console. Call it once per run, in
    the main Snakemake process, before Snakemake locks the directory.
    """
    me = this_run()
    others = [run for run in recorded_runs() if run.pid != me.pid or run.host != me.host]
    dead = [run for run in others if not run.alive()]
    for run in dead:
        run.record.unlink(missing_ok=True)
    notes = []
    if len(dead) == len(others):
        notes = remove_leftovers()
    RUNS.mkdir(parents=True, exist_ok=True)
    me.record.write_text(f"{me.started}\n")
    atexit.register(me.record.unlink, missing_ok=True)
    return notes


def remove_leftovers() -> list[str]:
    """Remove Snakemake's locks and the hidden temporary files under ``results/`` (only when
    no other run is alive); one line per kind removed."""
    notes = []
    if LOCKS.is_dir() and any(LOCKS.iterdir()):
        shutil.rmtree(LOCKS, ignore_errors=True)
        notes.append(
            f"removed the lock a killed run left in {LOCKS} (no other snakemake runs here)"
        )
    temporaries = stale_temporaries(RESULTS)
    for path in temporaries:
        path.unlink(missing_ok=True)
    if temporaries:
        notes.append(
            f"removed {len(temporaries)} half-written temporary file(s) a killed run left "
            f"under {RESULTS}/ (e.g. {temporaries[0]})"
        )
    return notes


def stale_temporaries(directory: Path) -> list[Path]:
    """Hidden files named like the temporary files of atomic writes under ``directory``."""
    found = []
    for folder, _, names in os.walk(directory):
        found += [Path(folder) / name for name in sorted(names) if TEMPORARY_NAME.match(name)]
    return found
