"""GPU benchmark (issue 14): training per epoch and the OIP engine, on the GPU and the CPU.

On a machine where TensorFlow sees a CUDA GPU it times, each on the GPU and on this machine's
CPU (for the ratio):

- training, seconds per epoch of the default CNN and config: float32, and mixed float16
  (the pipeline's setting on a GPU); the first epoch (tracing) is left out;
- the OIP engine (``cnnlens.optvis``; 512 images = 128 Conv2D_3 maps x 4 restarts, 50 steps, as
  ``oip_engine.py``): float32 with TF32 off, float32 with TF32 on and bfloat16 (GPUs of compute
  capability 8.0 or more), each with XLA off and on.

It prints the GPU's name, one row per workload with the GPU's and the CPU's time and their
ratio. Without a GPU it says so in one line and exits 0 (``--allow-cpu`` runs the timings on
the CPU anyway, to check the script).

    pip install -e ".[gpu]"          # tensorflow[and-cuda]
    python benchmarks/gpu.py --model results/model/cnn.keras --data results/data
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow

REPOSITORY = Path(__file__).resolve().parents[1]
ENGINE_LAYER = "Conv2D_3"
ENGINE_IMAGES = 512
ENGINE_STEPS = 50
EPSILON = 0.01
SEED = 1234
NOTHING_TO_DO = 'nothing to benchmark (on a GPU machine: pip install -e ".[gpu]")'


@dataclasses.dataclass
class Timing:
    """One workload's time on the GPU and on the CPU, in ``unit`` (None: not run there)."""

    workload: str
    variant: str
    gpu_time: float | None
    cpu_time: float | None
    unit: str

    @property
    def ratio(self) -> float | None:
        if self.gpu_time and self.cpu_time:
            return self.cpu_time / self.gpu_time
        return None

    def row(self) -> str:
        def shown(value: float | None) -> str:
            return "-" if value is None else f"{value:.3f}"

        ratio = "-" if self.ratio is None else f"{self.ratio:.1f}x"
        return (f"| {self.workload} | {self.variant} | {shown(self.gpu_time)} | "
                f"{shown(self.cpu_time)} | {ratio} | {self.unit} |")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="results/model/cnn.keras",
                        help="the trained CNN, for the engine")
    parser.add_argument("--data", default="results/data",
                        help="the prepared MNIST splits, for training")
    parser.add_argument("--epochs", type=int, default=2,
                        help="epochs trained per setting (the first, tracing, is left out)")
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU reference timings")
    parser.add_argument("--allow-cpu", action="store_true",
                        help="without a GPU, time on the CPU anyway (checks the script)")
    parser.add_argument("--json", type=Path, default=None, help="write the timings here")
    return parser.parse_args()


def nvidia_driver_loaded() -> bool:
    """True when an NVIDIA kernel driver is loaded (no driver: no CUDA GPU to look for)."""
    return Path("/proc/driver/nvidia/version").is_file() or shutil.which("nvidia-smi") is not None


@contextlib.contextmanager
def silenced_stderr():
    """File descriptor 2 to /dev/null: TensorFlow's start-up lines bypass its log level."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def gpu_details(tf) -> tuple[str, tuple[int, int]] | None:
    """The first GPU's name and compute capability, or None without a GPU."""
    with silenced_stderr():
        gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    capability = tuple(details.get("compute_capability", (0, 0)))
    return details.get("device_name", "unknown GPU"), capability


def default_training(epochs: int):
    """The default config's training settings (the schema's defaults), for ``epochs``."""
    from cnnlens import settings
    from cnnlens.configuration import validate_config

    config: dict = {}
    validate_config(config, REPOSITORY / "workflow" / "schemas" / "config.schema.yaml")
    options = settings.from_config(config)
    return config["model"]["architecture"], dataclasses.replace(options.training, epochs=epochs)


def seconds_per_epoch(data: Path, policy: str, epochs: int) -> float:
    """Median seconds of the epochs after the first, training the default CNN."""
    import numpy as np

    from cnnlens import model, training
    from cnnlens.files import load_array

    architecture, options = default_training(epochs)
    images = load_array(data / "train_imgs.npy")
    labels = load_array(data / "train_labels.npy")
    cnn = model.build_cnn(architecture, images.shape[1:], options.l2, policy)
    rows, _ = training.fit(cnn, images, labels, options, SEED)
    return float(np.median([row["seconds"] for row in rows[1:]]))


def engine_seconds(cnn, compute_dtype: str, jit_compile: bool) -> float:
    """Milliseconds per map-step of the engine on the benchmark's batch (after a trace)."""
    import oip_engine

    maps, starts = oip_engine.start_images(cnn, ENGINE_LAYER, ENGINE_IMAGES)
    run = oip_engine.engine_way(cnn, ENGINE_LAYER, starts, maps, ENGINE_STEPS, EPSILON,
                                compute_dtype, jit_compile=jit_compile)
    wall, _ = oip_engine.timed(run)
    return 1e3 * wall / (ENGINE_IMAGES * ENGINE_STEPS)


def engine_variants(capability: tuple[int, int]) -> list[tuple[str, str, bool, bool]]:
    """(name, compute dtype, TF32, XLA) of every engine setting this GPU supports."""
    settings = [("float32", "float32", False)]
    if capability >= (8, 0):  # Ampere and later: TF32 tensor cores and bfloat16
        settings += [("float32 + TF32", "float32", True), ("bfloat16", "bfloat16", False)]
    return [(f"{name}, XLA {'on' if xla else 'off'}", dtype, tf32, xla)
            for name, dtype, tf32 in settings for xla in (False, True)]


def on_device(tf, device: str, function, *arguments):
    with tf.device(device):
        return function(*arguments)


def time_training(tf, arguments, devices: dict[str, str | None]) -> list[Timing]:
    """Seconds per epoch, float32 and mixed float16, on each device."""
    data = Path(arguments.data)
    if not (data / "train_imgs.npy").is_file():
        print(f"no prepared MNIST in {data} (run `snakemake results/data/manifest.json`): "
              "training not timed")
        return []
    # the CPU reference trains in float32 (mixed float16 is a GPU setting), once
    cpu = (on_device(tf, devices["cpu"], seconds_per_epoch, data, "float32", arguments.epochs)
           if devices.get("cpu") else None)
    timings = []
    for variant, policy in (("float32", "float32"), ("mixed float16", "mixed_float16")):
        gpu = on_device(tf, devices["gpu"], seconds_per_epoch, data, policy, arguments.epochs)
        timings.append(Timing("training", variant, gpu, cpu, "s per epoch"))
        print(timings[-1].row(), flush=True)
    return timings


def time_engine(tf, arguments, devices: dict[str, str | None],
                capability: tuple[int, int]) -> list[Timing]:
    """Milliseconds per map-step of the engine in every supported setting, on each device;
    the CPU reference is the CPU's own setting without XLA (slower there)."""
    from cnnlens.model import load_cnn

    if not Path(arguments.model).is_file():
        print(f"no trained model at {arguments.model}: engine not timed")
        return []
    cnn = load_cnn(arguments.model)
    cpu_reference = {}  # the CPU's own best: no TF32 there, bfloat16 where native
    timings = []
    for variant, dtype, tf32, xla in engine_variants(capability):
        tf.config.experimental.enable_tensor_float_32_execution(tf32)
        gpu = on_device(tf, devices["gpu"], engine_seconds, cnn, dtype, xla)
        if devices.get("cpu") and not xla and dtype not in cpu_reference:
            cpu_reference[dtype] = on_device(tf, devices["cpu"], engine_seconds, cnn, dtype, False)
        timings.append(Timing("engine", variant, gpu, cpu_reference.get(dtype),
                              "ms per map-step"))
        print(timings[-1].row(), flush=True)
    return timings


def main() -> int:
    arguments = parse_arguments()
    if not nvidia_driver_loaded() and not arguments.allow_cpu:
        print(f"no CUDA GPU (no NVIDIA driver loaded): {NOTHING_TO_DO}")
        return 0
    with silenced_stderr():
        import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # no retracing warnings between the table's rows
    found = gpu_details(tf)
    if found is None and not arguments.allow_cpu:
        print(f"no CUDA GPU visible to TensorFlow {tf.__version__}: {NOTHING_TO_DO}")
        return 0
    name, capability = found or ("CPU (--allow-cpu: no GPU)", (0, 0))
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # oip_engine.py
    devices = {"gpu": "/GPU:0" if found else "/CPU:0",
               "cpu": None if arguments.no_cpu else "/CPU:0"}
    print(f"device: {name}, compute capability {capability[0]}.{capability[1]}; "
          f"TensorFlow {tf.__version__}; CPU reference: {os.cpu_count()} cores")
    print("| workload | setting | GPU | CPU | CPU / GPU | unit |")
    print("| --- | --- | ---: | ---: | ---: | --- |", flush=True)
    timings = time_training(tf, arguments, devices)
    timings += time_engine(tf, arguments, devices, capability)
    if arguments.json:
        rows = [dataclasses.asdict(timing) | {"ratio": timing.ratio} for timing in timings]
        arguments.json.write_text(json.dumps({"device": name, "timings": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
