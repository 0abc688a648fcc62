"""Benchmark of the OIP ascent (issue 3): four ways to run the same climb (RMS-normalised
gradient step, then each image standardised).

On the same maps, steps and start images it times

1. the study's way: one map at a time, an eager ``tf.GradientTape`` per step;
2. one map at a time with a compiled step (``tf.function``);
3. tf-keras-vis 0.8.7 ``ActivationMaximization`` with a batch of filters (its own update rule
   and defaults; only the time is compared);
4. our batched engine (``cnnlens.optvis``), in float32 and bfloat16 compute,

prints seconds per map-step, the ratios, the achieved GFLOP/s against the CPU's measured peak,
and then times the whole job of the oip stage in the engine: every map of every conv layer
x 4 restarts x 400 steps. The machine's load is printed at the start and the end: on a shared
machine the numbers are only as good as the load allows.

    pip install -e .[bench]          # tf-keras-vis
    python benchmarks/oip_engine.py --model results/model/cnn.keras
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from oip_ways import compiled_per_map, engine_way, study_way, tf_keras_vis_way

REPOSITORY = Path(__file__).resolve().parents[1]

def conv_layers(model) -> dict[str, object]:
    """The model's conv layers by name, input to output."""
    import keras

    return {layer.name: layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)}


def flops_per_image_step(model, layer: str) -> float:
    """FLOPs of one ascent step of one image targeting ``layer``: a forward pass through the
    conv layers up to it and the gradient w.r.t. the input cost twice the forward
    convolutions' FLOPs (2 per multiply-add)."""
    forward = 0.0
    for name, conv in conv_layers(model).items():
        _, height, width, outputs = conv.output.shape
        rows, columns = conv.kernel_size
        inputs = conv.input.shape[-1]
        forward += 2.0 * height * width * rows * columns * inputs * outputs
        if name == layer:
            break
    return 2.0 * forward


def default_noise() -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Scales and factors of the start noise in the default config (the schema's defaults)."""
    from cnnlens.configuration import validate_config

    config: dict = {}
    validate_config(config, REPOSITORY / "workflow" / "schemas" / "config.schema.yaml")
    return tuple(config["oip"]["noise"]["scales"]), tuple(config["oip"]["noise"]["factors"])


def start_noise(model, layer: str, maps, restarts) -> np.ndarray:
    """Seeded multi-scale start images of (map, restart) pairs, as the OIP search makes them."""
    from cnnlens import noise

    keys = [noise.image_key(1234, layer, int(k), int(r)) for k, r in zip(maps, restarts)]
    scales, factors = default_noise()
    return noise.multiscale_noise(keys, scales, factors, model.input_shape[1:3])


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="results/model/cnn.keras")
    parser.add_argument("--layer", default="Conv2D_3")
    parser.add_argument("--steps", type=int, default=50, help="steps timed per method")
    parser.add_argument("--study-maps", type=int, default=2)
    parser.add_argument("--compiled-maps", type=int, default=8)
    parser.add_argument(
        "--batch-maps",
        type=int,
        default=512,
        help="images of tf-keras-vis and the engine: every map, 4 restarts",
    )
    parser.add_argument("--skip-full", action="store_true", help="skip the run of every map")
    parser.add_argument("--json", default=None, help="write the results here as JSON")
    return parser.parse_args()


def timed(function: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all threads) of ``function()``."""
    start, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - start, time.process_time() - cpu


def measured_peak(dtype: str, size: int = 2048, repeats: int = 8) -> tuple[float, float]:
    """GFLOP/s of a large matrix product on all threads, per wall-clock and per CPU second:
    what these cores can reach."""
    import tensorflow as tf

    compute = getattr(tf, dtype)
    a = tf.cast(tf.random.normal((size, size)), compute)
    b = tf.cast(tf.random.normal((size, size)), compute)
    product = tf.function(tf.matmul)
    product(a, b).numpy()
    wall, cpu = timed(lambda: [product(a, b) for _ in range(repeats)][-1].numpy())
    work = repeats * 2 * size**3 / 1e9
    return work / wall, work / cpu


def full_oip_job(
    model, compute_dtype: str, restarts: int = 4, steps: int = 400
) -> dict[str, float]:
    """All maps of every conv layer x restarts x steps in the engine, seconds per layer."""
    from cnnlens.optvis import objectives
    from cnnlens.optvis.engine import AscentEngine
    from cnnlens.optvis.render import render

    seconds = {}
    for layer, conv in conv_layers(model).items():
        engine = AscentEngine(model, [layer], compute_dtype=compute_dtype)
        maps = np.repeat(np.arange(conv.filters), restarts)
        starts = start_noise(model, layer, maps, np.tile(np.arange(restarts), conv.filters))
        objective = objectives.channels(layer, maps).revived()
        render(engine, starts[:8], objective.take(slice(0, 8)), 2, 0.01)  # trace once
        seconds[layer] = timed(lambda: render(engine, starts, objective, steps, 0.01))[0]
    return seconds


# ---- the run ------------------------------------------------------------------------------


class Recorder:
    """Timing rows: seconds (wall and CPU) per map-step and GFLOP/s of each method."""

    def __init__(self, flops: float) -> None:
        self.flops = flops
        self.rows: list[dict] = []

    def record(
        self, name: str, seconds: tuple[float, float], map_steps: int, dtype: str = "float32"
    ) -> None:
        per, cpu = (value / map_steps for value in seconds)
        self.rows.append(
            {
                "method": name,
                "dtype": dtype,
                "seconds_per_map_step": per,
                "cpu_seconds_per_map_step": cpu,
                "gflops": self.flops / per / 1e9,
                "gflops_per_cpu_second": self.flops / cpu / 1e9,
            }
        )
        print(
            f"  {name:<36} {dtype:<9} {per * 1e3:9.3f} ms per map-step "
            f"({cpu * 1e3:.3f} CPU ms)",
            flush=True,
        )

    def table(self, peaks: dict[str, tuple[float, float]]) -> str:
        """A markdown table with speed-ups and the fraction of the peak reached."""
        lines = [
            "| method | compute | ms per map-step | CPU ms per map-step | speed-up vs study "
            "| vs tf-keras-vis | GFLOP/s | of peak (per CPU second) |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        study = self.rows[0]["seconds_per_map_step"]
        vis = [row for row in self.rows if row["method"].startswith("tf-keras-vis")]
        for row in self.rows:
            row["speedup_vs_study"] = study / row["seconds_per_map_step"]
            row["speedup_vs_tf_keras_vis"] = (
                vis[0]["seconds_per_map_step"] / row["seconds_per_map_step"] if vis else None
            )
            row["fraction_of_peak"] = row["gflops_per_cpu_second"] / peaks[row["dtype"]][1]
            versus_vis = f"{row['speedup_vs_tf_keras_vis']:.1f}x" if vis else "-"
            lines.append(
                f"| {row['method']} | {row['dtype']} | {row['seconds_per_map_step'] * 1e3:.3f} | "
                f"{row['cpu_seconds_per_map_step'] * 1e3:.3f} | {row['speedup_vs_study']:.0f}x | "
                f"{versus_vis} | {row['gflops']:.1f} | {100 * row['fraction_of_peak']:.0f}% |"
            )
        return "\n".join(lines)


def start_images(model, layer: str, images: int) -> tuple[np.ndarray, np.ndarray]:
    """Maps (every map, then every map again, ...) and their seeded multi-scale starts."""
    count = conv_layers(model)[layer].filters
    maps = np.arange(images) % count
    return maps, start_noise(model, layer, maps, np.arange(images) // count)


def start_objectives(model, layer: str, starts: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """Each start image's objective: its map's mean activation."""
    from cnnlens.optvis import objectives
    from cnnlens.optvis.engine import AscentEngine

    return AscentEngine(model, [layer]).objective(starts, objectives.channels(layer, maps))


def time_methods(model, arguments: argparse.Namespace, recorder: Recorder) -> None:
    """The same climb (maps, steps, starts) by the study's way, per map compiled,
    tf-keras-vis and our engine; checks that the engine climbs as the study's way does."""
    import keras

    layer, steps, epsilon = arguments.layer, arguments.steps, 0.01
    layer_model = keras.Model(model.inputs, model.get_layer(layer).output)
    maps, starts = start_images(model, layer, arguments.batch_maps)
    # the maps timed one at a time: the first that react to their start image (a map at zero
    # does not move, and would make the check below say nothing)
    awake = np.flatnonzero(start_objectives(model, layer, starts, maps) > 0)
    few = awake[: arguments.study_maps]
    some = awake[: arguments.compiled_maps]
    study_images = []
    recorder.record(
        "study: eager, one map at a time",
        timed(
            lambda: study_images.append(
                study_way(layer_model, starts[few], maps[few], steps, epsilon)
            )
        ),
        arguments.study_maps * steps,
    )
    compiled_per_map(layer_model, starts[:1], maps[:1], 2, epsilon)  # trace once
    recorder.record(
        "compiled step, one map at a time",
        timed(lambda: compiled_per_map(layer_model, starts[some], maps[some], steps, epsilon)),
        arguments.compiled_maps * steps,
    )
    try:
        recorder.record(
            f"tf-keras-vis 0.8.7, {len(maps)} filters",
            timed(lambda: tf_keras_vis_way(model, layer, starts, maps, steps)),
            len(maps) * steps,
        )
    except ImportError:
        print("  tf-keras-vis not installed (pip install -e .[bench]): skipped")
    engine_images = {}
    for dtype in ("float32", "bfloat16"):
        run = engine_way(model, layer, starts, maps, steps, epsilon, dtype)
        recorder.record(
            f"our engine, {len(maps)} images batched",
            timed(lambda: engine_images.setdefault(dtype, run())),
            len(maps) * steps,
            dtype,
        )
    xla = engine_way(model, layer, starts, maps, steps, epsilon, "float32", jit_compile=True)
    recorder.record(f"our engine with XLA, {len(maps)} images", timed(xla), len(maps) * steps)
    moved = np.abs(study_images[0] - starts[few]).max()
    same = np.abs(engine_images["float32"][few] - study_images[0]).max()
    print(
        f"engine float32 vs the study's way, same maps and starts: max |difference| "
        f"{same:.2e} (the images moved by up to {moved:.2f})"
    )


def main() -> None:
    arguments = parse_arguments()
    load_before = os.getloadavg()
    from cnnlens.model import load_cnn

    model = load_cnn(arguments.model)
    flops = flops_per_image_step(model, arguments.layer)
    print(
        f"{arguments.layer}, {arguments.steps} steps, {os.cpu_count()} CPUs, "
        f"load average before {load_before}"
    )
    print(f"work per image-step: {flops / 1e6:.2f} MFLOP (forward + input gradient)")
    recorder = Recorder(flops)
    time_methods(model, arguments, recorder)
    peaks = {dtype: measured_peak(dtype) for dtype in ("float32", "bfloat16")}
    print("\n" + recorder.table(peaks))
    print(
        "peak, a 2048x2048 matrix product on all threads: "
        + ", ".join(
            f"{dtype} {wall:.0f} GFLOP/s ({cpu:.0f} per CPU second)"
            for dtype, (wall, cpu) in peaks.items()
        )
    )
    full = {}
    if not arguments.skip_full:
        for dtype in ("float32", "bfloat16"):
            full[dtype] = full_oip_job(model, dtype)
            print(
                f"all conv maps x 4 restarts x 400 steps, {dtype}: "
                f"{sum(full[dtype].values()):.1f} s ("
                + ", ".join(f"{name} {value:.1f} s" for name, value in full[dtype].items())
                + ")",
                flush=True,
            )
    load_after = os.getloadavg()
    print(f"load average after {load_after}")
    if arguments.json:
        Path(arguments.json).write_text(
            json.dumps(
                {
                    "layer": arguments.layer,
                    "steps": arguments.steps,
                    "mflop_per_image_step": flops / 1e6,
                    "rows": recorder.rows,
                    "peak_gflops": peaks,
                    "full_job_seconds": full,
                    "load_before": load_before,
                    "load_after": load_after,
                    "cpus": os.cpu_count(),
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
