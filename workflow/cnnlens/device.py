"""The TensorFlow side of a job: its threads, its seeds, and the device it computes on.

Only jobs that compute with TensorFlow import this module (figure jobs never do). Snakemake
already sets the thread environment variables (OMP_NUM_THREADS and the like) of every job
from its ``threads``; TensorFlow's own thread pools are set here.
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf


def limit_threads(threads: int) -> None:
    """Make TensorFlow use at most ``threads`` CPU threads (before its first operation)."""
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))


def make_deterministic(seed: int) -> None:
    """Seed Python, NumPy, TensorFlow and Keras, and ask TensorFlow for deterministic kernels."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def prepare(threads: int, seed: int | None = None) -> str:
    """Threads, then seeds (when given) for a TensorFlow job; returns the device's name."""
    limit_threads(threads)
    if seed is not None:
        make_deterministic(seed)
    return describe_device()


def has_gpu() -> bool:
    """True when TensorFlow sees at least one GPU."""
    return bool(tf.config.list_physical_devices("GPU"))


def describe_device() -> str:
    """Name the device TensorFlow will compute on, e.g. ``GPU:0 (NVIDIA A100)`` or ``CPU``."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        missed = f"; CUDA_VISIBLE_DEVICES={visible} but TensorFlow sees no GPU" if visible else ""
        return f"CPU ({cores} cores available{missed})"
    details = tf.config.experimental.get_device_details(gpus[0])
    name = details.get("device_name", "unknown model")
    return f"GPU:0 ({name}; {len(gpus)} GPU(s) visible)"
