"""How a workflow script runs: its log file, its error handling, threads, seeds and device.

Every script in ``scripts/`` wraps its work in :func:`script_run`, which sends all messages
(Python logging, warnings, and TensorFlow's own C++ output) to the rule's log file, turns a
:class:`~cnnlens.errors.CnnLensError` into one clear line on the console, and exits non-zero
so that Snakemake removes the job's outputs.
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
def script_run(log_path: str, threads: int | None = None) -> Iterator[logging.Logger]:
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
            if threads:
                limit_threads(threads)
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


def limit_threads(threads: int) -> None:
    """Make TensorFlow and the BLAS libraries use at most ``threads`` CPU threads.

    Must run before TensorFlow executes its first operation.
    """
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))


def make_deterministic(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras, and ask TensorFlow for deterministic kernels."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def describe_device() -> str:
    """Name the device TensorFlow will compute on, e.g. ``GPU:0 (NVIDIA A100)`` or ``CPU``."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        missed = f"; CUDA_VISIBLE_DEVICES={visible} but TensorFlow sees no GPU" if visible else ""
        return f"CPU ({cores} cores available{missed})"
    details = tf.config.experimental.get_device_details(gpus[0])
    name = details.get("device_name", "unknown model")
    return f"GPU:0 ({name}; {len(gpus)} GPU(s) visible)"


def has_gpu() -> bool:
    """True when TensorFlow sees at least one GPU."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))
