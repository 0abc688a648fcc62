"""Everything the atlas shows, read from the other stages' files into one :class:`AtlasData`.

The unit tables and probabilities come from the atlas's own read-out job; OIPs from the OIP
stage's chunk results (every restart and the evolution of the best one), node OIPs, class-pair
effect sizes from the activations stage's comparison tables, dreams from the dream stage's
images. Only the unit tables are required: what another stage did not compute is left out of
the pages. No TensorFlow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnlens.activations.examples import class_name
from cnnlens.atlas.records import UnitTable
from cnnlens.files import load_array, load_arrays, read_csv
from cnnlens.network import Network
from cnnlens.oip.results import SearchResult, gather_chunks

MAP_NAME = re.compile(r"map_(\d{3})$")


@dataclass
class Dream:
    """One dream image through a unit: its photo, its kind and its file."""

    photo: str
    kind: str  # "single map" (28x28 rounds, detail put back) or "full size"
    path: Path


@dataclass
class AtlasData:
    """Everything the pages show."""

    network: Network
    tables: dict[str, UnitTable]  # atlas layers in network order
    test_images: np.ndarray  # (N, H, W) grey or (N, H, W, 3) colour
    labels: np.ndarray  # (N,)
    probabilities: np.ndarray  # (N, classes)
    class_names: tuple[str, ...]  # one per class (output node)
    reasons: dict[int, str]  # selected test image -> why it was chosen
    oips: dict[str, SearchResult]
    node_layer: str
    node_oips: dict[int, np.ndarray]  # map -> (h, w, H, W) grey or (h, w, H, W, 3) colour
    effects: dict[str, dict[str, dict[int, dict[str, float]]]]  # layer -> pair -> unit -> stats
    dreams: dict[tuple[str, int], list[Dream]]

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def classes(self) -> int:
        return int(self.probabilities.shape[1])

    def class_name(self, label: int) -> str:
        """The name of class ``label``."""
        return class_name(self.class_names, label)

    def pair_name(self, pair: str) -> str:
        """A compared pair's directory name (``4_vs_9``) by class names (``Coat vs Bag``)."""
        first, second = pair.split("_vs_")
        return f"{self.class_name(int(first))} vs {self.class_name(int(second))}"


def shown_images(images: np.ndarray) -> np.ndarray:
    """Prepared test images (N, H, W, C) as the atlas keeps them: (N, H, W) grey (C = 1) or
    (N, H, W, 3) colour."""
    return images[..., 0] if images.shape[-1] == 1 else images


def load_tables(paths: Sequence[str | Path]) -> dict[str, UnitTable]:
    tables = [UnitTable.load(path) for path in paths]
    return {table.layer: table for table in tables}


def load_oips(chunks: Mapping[str, Sequence[str | Path]]) -> dict[str, SearchResult]:
    """Per layer, its gathered search result (layers without chunks left out)."""
    return {layer: gather_chunks(paths) for layer, paths in chunks.items() if paths}


def load_node_oips(paths: Sequence[str | Path]) -> dict[int, np.ndarray]:
    """Map number -> its node OIPs, from ``map_NNN.npy`` files."""
    found = {}
    for path in paths:
        match = MAP_NAME.search(Path(path).stem)
        if match:
            found[int(match.group(1))] = load_array(path)
    return found


def load_effects(paths: Sequence[str | Path]) -> dict[str, dict[str, dict[int, dict]]]:
    """Layer -> pair ("4_vs_9") -> unit -> {effect_size, auc}, from the comparison tables
    ``compare/{pair}/{layer}.csv``."""
    effects: dict[str, dict[str, dict[int, dict]]] = {}
    for path in map(Path, paths):
        pair, layer = path.parent.name, path.stem
        per_unit = {}
        for row in read_csv(path):
            unit = int(row.get("map") or row.get("node"))
            per_unit[unit] = {"effect_size": float(row["effect_size"]), "auc": float(row["auc"])}
        effects.setdefault(layer, {})[pair] = per_unit
    return effects


def find_dreams(
    map_directories: Sequence[str | Path], fine_images: Sequence[str | Path], layer: str
) -> dict[tuple[str, int], list[Dream]]:
    """(layer, map) -> its dreams: ``{photo}/maps/map_NNN/dream.png`` in the single-map
    directories and ``{photo}/fine/map_NNN/dream.png`` among the full-size images."""
    dreams: dict[tuple[str, int], list[Dream]] = {}
    candidates = [
        (Path(directory).parent.name, "single map", Path(directory) / name / "dream.png")
        for directory in map_directories
        if Path(directory).is_dir()
        for name in sorted(entry.name for entry in Path(directory).iterdir())
    ]
    candidates += [
        (Path(image).parents[2].name, "full size", Path(image)) for image in fine_images
    ]
    for photo, kind, path in candidates:
        match = MAP_NAME.search(path.parent.name)
        if match and path.is_file():
            dreams.setdefault((layer, int(match.group(1))), []).append(Dream(photo, kind, path))
    return dreams


def load_predictions(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(labels (N,), probabilities (N, classes)) of the read-out job."""
    arrays = load_arrays(path)
    return arrays["labels"], arrays["probabilities"]


def load_reasons(examples_csv: str | Path) -> dict[int, str]:
    """Selected test image -> why it was chosen (``examples.csv`` of the activations stage)."""
    return {int(row["index"]): row["why"] for row in read_csv(examples_csv)}
