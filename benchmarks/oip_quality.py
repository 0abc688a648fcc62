"""Do the OIPs win? For every map, its OIP against all test images, recomputed from scratch.

Loads the trained CNN with plain Keras (not the engine), each ``map_NNN.npy`` the oip stage
wrote, and the test images; computes each map's mean activation (over its positions) on its
OIP and on every test image, and counts per layer: maps with an OIP, maps, dead maps, maps
whose OIP beats every test image, and maps that no test image activates at all.

    python benchmarks/oip_quality.py --results results
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="the workflow's results directory")
    return parser.parse_args()


def mean_activations(model, layer: str, images: np.ndarray) -> np.ndarray:
    """(N, maps): each map's mean ReLU activation over its positions, plain Keras."""
    import keras

    extractor = keras.Model(model.inputs, model.get_layer(layer).output)
    return extractor.predict(images, batch_size=1000, verbose=0).mean(axis=(1, 2))


def check_layer(model, results: Path, layer: str, test_images: np.ndarray) -> dict[str, int]:
    directory = results / "oips" / layer
    count = model.get_layer(layer).output.shape[-1]
    oips = np.stack([np.load(directory / f"map_{k:03d}.npy") for k in range(count)])
    own = mean_activations(model, layer, oips[..., None])[np.arange(count), np.arange(count)]
    best_test = mean_activations(model, layer, test_images).max(axis=0)
    with open(directory / "summary.csv", newline="") as stream:
        dead = sum(row["status"] == "dead" for row in csv.DictReader(stream))
    active = best_test > 0
    wins = own > best_test
    return {
        "maps": count,
        "ok": count - dead,
        "dead": dead,
        "beat_every_test_image": int(wins.sum()),
        "test_active": int(active.sum()),
        "test_active_beaten": int((wins & active).sum()),
        "median_ratio_to_best_test": float(np.median(own[active] / best_test[active])),
    }


def main() -> None:
    arguments = parse_arguments()
    import keras

    results = Path(arguments.results)
    model = keras.models.load_model(results / "model" / "cnn.keras")
    test_images = np.load(results / "data" / "test_imgs.npy")
    print(
        "| layer | ok / maps / dead | OIP beats all test images | test-active maps beaten "
        "| median OIP / best test image |"
    )
    print("| --- | --- | ---: | ---: | ---: |")
    for layer in [layer.name for layer in model.layers]:
        if not (results / "oips" / layer / "summary.csv").is_file():
            continue
        counts = check_layer(model, results, layer, test_images)
        print(
            f"| {layer} | {counts['ok']} / {counts['maps']} / {counts['dead']} | "
            f"{counts['beat_every_test_image']} | {counts['test_active_beaten']} of "
            f"{counts['test_active']} | {counts['median_ratio_to_best_test']:.2f} |"
        )


if __name__ == "__main__":
    main()
