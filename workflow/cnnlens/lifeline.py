"""A job ends when the Snakemake that started it is gone.

Snakemake killed with SIGKILL cannot stop its jobs: they would run on by themselves and write
into ``results/`` while a new run works there. A job's process is a grandchild or deeper of
that Snakemake (Snakemake -> shell -> python, or Snakemake -> job-level Snakemake -> shell ->
python), so the kernel's parent-death signal (``PR_SET_PDEATHSIG``, set too) alone would not
notice. :func:`stop_with_snakemake` therefore watches the outermost Snakemake process among
the job's ancestors and sends the job SIGTERM when it exits; :mod:`cnnlens.runtime` turns that
into an orderly stop (files being written are removed), and a job that has not ended
:data:`GRACE_SECONDS` later is ended at once. Linux only; elsewhere nothing is watched.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import signal
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
GRACE_SECONDS = 30.0
POLL_SECONDS = 2.0
MAX_ANCESTORS = 12


def stop_with_snakemake() -> int | None:
    """Arrange for this process to stop when its outermost Snakemake ancestor exits; return
    that ancestor's pid (None when there is none, e.g. outside a workflow run)."""
    _set_parent_death_signal(signal.SIGTERM)
    pid = outermost_snakemake()
    if pid is not None:
        watcher = threading.Thread(target=_watch, args=(pid,), name="lifeline", daemon=True)
        watcher.start()
    return pid


def outermost_snakemake(pid: int | None = None) -> int | None:
    """The pid of the outermost ancestor of ``pid`` (default: this process) whose command line
    runs Snakemake, or None."""
    found = None
    current = os.getppid() if pid is None else parent_of(pid)
    for _ in range(MAX_ANCESTORS):
        if current is None or current <= 1:
            break
        if _runs_snakemake(current):
            found = current
        current = parent_of(current)
    return found


def parent_of(pid: int) -> int | None:
    """The parent pid of ``pid`` from ``/proc`` (None if it cannot be read)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name, in parentheses, may contain spaces: read the fields after its ')'
    return int(stat.rsplit(")", 1)[1].split()[1])


def _runs_snakemake(pid: int) -> bool:
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    # `python -m snakemake ...` or `python .../bin/snakemake ...`
    return any(Path(os.fsdecode(argument)).name == "snakemake" for argument in arguments[:3])


def _set_parent_death_signal(number: int) -> None:
    """Ask the kernel for ``number`` when the parent process exits (Linux; else nothing)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(number), 0, 0, 0)


def _watch(pid: int) -> None:
    """Wait for ``pid`` to exit, then stop this process (SIGTERM, then at once)."""
    _wait_for_exit(pid)
    with contextlib.suppress(Exception):
        log.error("the snakemake that started this job (pid %d) is gone; stopping the job", pid)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_SECONDS)
    os._exit(143)


def _wait_for_exit(pid: int) -> None:
    """Block until ``pid`` has exited: a pidfd where the kernel has them, else polling."""
    try:
        descriptor = os.pidfd_open(pid)
    except (AttributeError, OSError):
        while _alive(pid):
            time.sleep(POLL_SECONDS)
        return
    try:
        select.select([descriptor], [], [])
    finally:
        os.close(descriptor)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
