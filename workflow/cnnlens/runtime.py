"""How a workflow script runs: its log file, its error handling and its end.

Every script in ``scripts/`` wraps its work in :func:`script_run`, which

- sends all messages (Python logging, warnings, and TensorFlow's own C++ output) to the
  rule's log file;
- turns a :class:`~cnnlens.errors.CnnLensError`, a full disk, Ctrl-C or SIGTERM into one line
  on the console (an unexpected error's traceback goes to the log only) and exits non-zero,
  so that Snakemake removes the job's outputs;
- ends the job when the Snakemake that started it is gone (killed with SIGKILL), instead of
  letting it write into ``results/`` on its own (:mod:`cnnlens.lifeline`);
- ends a finished job's process at once, without the interpreter's teardown: with TensorFlow
  loaded that teardown costs about a CPU second per job, after every output is written.

Threads, seeds and the device are :mod:`cnnlens.device`'s business (TensorFlow jobs only).
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from typing import TextIO

from cnnlens import lifeline
from cnnlens.errors import NO_SPACE_ERRNOS, CnnLensError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

log = logging.getLogger("cnnlens")


class Stopped(BaseException):
    """The job was asked to stop (SIGTERM, or the Snakemake that started it is gone)."""


@contextlib.contextmanager
def script_run(log_path: str) -> Iterator[logging.Logger]:
    """Run a script's body with its output going to ``log_path``.

    File descriptors 1 and 2 are redirected so that native libraries write to the log too.
    Whatever stops the body is reported as a single line on the original stderr (and in the
    log, where there is room), and the script exits non-zero.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    signal.signal(signal.SIGTERM, _stop_on_signal)
    lifeline.stop_with_snakemake()
    console = os.fdopen(os.dup(2), "w")
    log_file = open(log_path, "w", buffering=1)  # noqa: SIM115 - closed quietly below
    saved_fds = _redirect_standard_streams(log_file)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr, force=True)
    logging.captureWarnings(True)
    logging.raiseExceptions = False  # a log on a full disk must not add tracebacks
    started = time.perf_counter()
    log.info("started %s", _script_name())
    try:
        yield log
        log.info(
            "finished in %.1f s; %.1f CPU s in all", time.perf_counter() - started, cpu_seconds()
        )
    except BaseException as error:  # noqa: BLE001 - each kind is reported below, once
        status, message = _describe_failure(error, log_path)
        _report(console, message)
        raise SystemExit(status) from None
    finally:
        _flush_quietly()
        _restore_standard_streams(saved_fds)
        for stream in (log_file, console):
            with contextlib.suppress(OSError):
                stream.close()
    _end_finished_process()


def cpu_seconds() -> float:
    """CPU seconds (user and system, every thread) this process and its finished children
    have used since it started, imports included: what the job cost, exactly (Snakemake's
    benchmark files sample it, every 30 s after a job's first 15 s)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _end_finished_process() -> None:
    """Exit with status 0 now. The script's outputs are written and closed, its log flushed;
    what is skipped is Python's teardown of every module (TensorFlow's takes ~1 CPU s)."""
    logging.shutdown()
    _flush_quietly()
    os._exit(0)


def _describe_failure(error: BaseException, log_path: str) -> tuple[int, str]:
    """The exit status and the console line for what stopped the script (also logged)."""
    if isinstance(error, SystemExit):
        raise error
    if isinstance(error, CnnLensError):
        message = str(error)
        status = 1
    elif isinstance(error, OSError) and error.errno in NO_SPACE_ERRNOS:
        message = (
            f"no space left on the device ({error.filename or 'a file being written'}); free "
            "some space and run snakemake again"
        )
        status = 1
    elif isinstance(error, KeyboardInterrupt):
        message = f"{_script_name()} interrupted (Ctrl-C); its outputs are removed"
        status = 130
    elif isinstance(error, Stopped):
        message = f"{_script_name()} stopped ({error}); no half-written file is kept"
        status = 143
    else:
        _log_quietly(logging.ERROR, "".join(traceback.format_exception(error)).rstrip())
        message = (
            f"unexpected {type(error).__name__} in {_script_name()}: {_first_line(error)} "
            f"(a bug: the traceback is in {log_path}; please report it)"
        )
        return 1, message
    _log_quietly(logging.ERROR, message)
    return status, message


def _stop_on_signal(number: int, frame) -> None:
    """SIGTERM handler: unwind the script (files being written are removed on the way)."""
    raise Stopped(signal.Signals(number).name)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"


def _report(console: TextIO, message: str) -> None:
    """Print ``cnnlens error: message`` on the console; a closed console is no error."""
    with contextlib.suppress(OSError, ValueError):
        print(f"cnnlens error: {message}", file=console, flush=True)


def _log_quietly(level: int, message: str) -> None:
    """Log ``message``; a log on a full disk must not hide the original error."""
    with contextlib.suppress(OSError):
        log.log(level, "%s", message)


def _flush_quietly() -> None:
    """Flush Python's streams (into the log), whose disk may be full."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def _script_name() -> str:
    """The workflow script running (Snakemake runs a copy named ``tmpXXXX.<script>.py``)."""
    return os.path.basename(sys.argv[0]).split(".", 1)[-1] if sys.argv[0] else "python"


def _redirect_standard_streams(log_file) -> tuple[int, int]:
    """Point fds 1 and 2 at ``log_file``; return copies of the originals."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    os.dup2(log_file.fileno(), 1)
    os.dup2(log_file.fileno(), 2)
    return saved


def _restore_standard_streams(saved: tuple[int, int]) -> None:
    """Undo :func:`_redirect_standard_streams`."""
    for target, copy in zip((1, 2), saved):
        os.dup2(copy, target)
        os.close(copy)
