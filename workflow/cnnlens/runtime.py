"""How a workflow script runs: its log file and its error handling.

Every script in ``scripts/`` wraps its work in :func:`script_run`, which sends all messages
(Python logging, warnings, and TensorFlow's own C++ output) to the rule's log file, turns a
:class:`~cnnlens.errors.CnnLensError` into one clear line on the console, and exits non-zero
so that Snakemake removes the job's outputs. Threads, seeds and the device are
:mod:`cnnlens.device`'s business (TensorFlow jobs only).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator

from cnnlens.errors import CnnLensError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

log = logging.getLogger("cnnlens")


@contextlib.contextmanager
def script_run(log_path: str) -> Iterator[logging.Logger]:
    """Run a script's body with its output going to ``log_path``.

    File descriptors 1 and 2 are redirected so that native libraries write to the log too.
    A :class:`CnnLensError` is reported as a single line on the original stderr and in the log.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    console = os.fdopen(os.dup(2), "w")
    with open(log_path, "w", buffering=1) as log_file:
        saved_fds = _redirect_standard_streams(log_file)
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr, force=True)
        logging.captureWarnings(True)
        started = time.perf_counter()
        log.info("started %s", _script_name())
        try:
            yield log
            log.info("finished in %.1f s", time.perf_counter() - started)
        except CnnLensError as error:
            log.error("%s", error)
            print(f"cnnlens error: {error}", file=console, flush=True)
            raise SystemExit(1) from None
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            _restore_standard_streams(saved_fds)
            console.close()


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
