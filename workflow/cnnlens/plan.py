"""The plan of a run, for the rule files: the network, the jobs' file lists, the photos, and
every check the config alone can answer, made before any job starts.

This is the workflow glue, apart from the algorithms: it imports neither TensorFlow nor
matplotlib, so ``snakemake -n`` stays fast and works where TensorFlow cannot be imported.
Every check raises a one-line :class:`~cnnlens.errors.CnnLensError` that names the key and
the fix.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cnnlens import colormaps, datasets, keras_file, resolution, sample_photo, settings
from cnnlens.datasets import DatasetFacts
from cnnlens.dream.names import fine_render_names
from cnnlens.errors import CnnLensError
from cnnlens.network import Network, from_architecture
from cnnlens.oip.steps import check_noise_layers, check_search
from cnnlens.oip_study.variants import variant_searches
from cnnlens.settings import Settings

OUTPUT_ACTIVATIONS = ("softmax", "linear")


@dataclasses.dataclass(frozen=True)
class Start:
    """What the rule files know before any job: the resolved settings, the network, the data
    set's facts and the class names."""

    settings: Settings
    network: Network
    facts: DatasetFacts
    class_names: tuple[str, ...]


def start(config: dict[str, Any]) -> Start:
    """From a validated config: the network (from model.file or model.architecture), the
    model-dependent keys resolved in ``config`` itself, and every check made."""
    data = settings.build(settings.Data, config["data"])
    model = settings.build(settings.Model, config["model"])
    facts = datasets.facts(data)
    described = network(model, facts)
    names = class_names(facts, described)
    resolution.resolve(config, described, names)
    tree = settings.from_config(config)
    check(tree, described, facts)
    return Start(tree, described, facts, names)


# ---- the network and its files ----


def network(model: settings.Model, facts: DatasetFacts) -> Network:
    """The network of ``model.file`` (read from the file) or the one ``model.architecture``
    builds for the data set's images; it must fit the data and end in one unit per class."""
    if model.file:
        described = keras_file.read_network(model.file)
        setting = f"model.file {model.file}"
    else:
        described = from_architecture(model.architecture, facts.image_shape)
        setting = "model.architecture"
    resolution.deepest_conv_layer(described)
    output = described.layers[-1]
    if output.kind != "dense" or output.activation not in OUTPUT_ACTIVATIONS:
        raise CnnLensError(
            f"{setting} ends with {output.name} ({output.kind}, activation "
            f"{output.activation}); end it with a dense layer of one unit per class (softmax "
            "or linear)"
        )
    if tuple(described.input_shape) != tuple(facts.image_shape):
        raise CnnLensError(
            f"{setting} takes inputs of {shape_text(described.input_shape)} but the data set's "
            f"images are {shape_text(facts.image_shape)}; use a model made for these images "
            "or other data"
        )
    return described


def shape_text(shape: Sequence[int]) -> str:
    """``28x28x1``."""
    return "x".join(str(int(side)) for side in shape)


def class_names(facts: DatasetFacts, described: Network) -> tuple[str, ...]:
    """One name per output of the model; the data's labels must all be among them."""
    names = facts.names_for(described.num_classes)
    if len(names) != described.num_classes:
        raise CnnLensError(
            f"the data set names {len(names)} classes but the model has "
            f"{described.num_classes} outputs; give data.class_names one name per output"
        )
    if facts.label_count > len(names):
        raise CnnLensError(
            f"the data's labels reach {facts.label_count - 1}, outside the {len(names)} classes "
            f"(0..{len(names) - 1}); fix the labels or use a model with more outputs"
        )
    return names


def map_files(directory: str, maps: Sequence[int] | range, suffix: str) -> list[str]:
    """One file per map: ``{directory}/map_NNN{suffix}``."""
    return [f"{directory}/map_{int(index):03d}{suffix}" for index in maps]


def map_chunks(maps: int, per_job: int | None) -> list[tuple[int, int]]:
    """(first, last) map of each search job's chunk; ``per_job`` None: the whole layer."""
    size = per_job or maps
    return [(first, min(first + size, maps) - 1) for first in range(0, maps, size)]


def chunk_files(described: Network, layer: str, per_job: int | None) -> list[str]:
    """The search results of a layer's chunks: ``results/oips/{layer}/chunks/maps_F-L.npz``."""
    return [
        f"results/oips/{layer}/chunks/maps_{first:03d}-{last:03d}.npz"
        for first, last in map_chunks(described.maps(layer), per_job)
    ]


def oip_files(described: Network, layer: str, suffix: str) -> list[str]:
    """``results/oips/{layer}/map_NNN{suffix}`` for every map (or unit) of the layer."""
    return map_files(f"results/oips/{layer}", range(described.maps(layer)), suffix)


# ---- photos ----


def photo_name(path: str | Path) -> str:
    """A photo's name in output paths: its file stem, other characters than letters, digits,
    ``-`` and ``_`` made ``_``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", Path(path).stem) or "photo"


@dataclasses.dataclass(frozen=True)
class Photo:
    """A photo to dream on: its ``file`` (``~`` expanded) and how the dreams' records name it,
    ``label``: the path as config.yaml gives it, or where the sample photo comes from (the same
    on every machine, unlike the matplotlib install's path)."""

    file: str
    label: str
    sample: bool  # matplotlib's sample photo, listed or by default

    @property
    def input(self) -> str | list[str]:
        """The photo job's input: the file, or none for the sample photo, which the job finds
        itself (an input path that differs between environments would rerun the dreams)."""
        return [] if self.sample else self.file


def photo_table(paths: Sequence[str]) -> dict[str, Photo]:
    """Photo names to photos; the sample photo for an empty list. Two photos of the same name
    would overwrite each other's dreams: that is an error."""
    table: dict[str, Photo] = {}
    for path in [str(path) for path in paths] or [str(sample_photo.photo_file())]:
        name, file = photo_name(path), str(Path(path).expanduser())
        if name in table:
            raise CnnLensError(
                f"the photos {table[name].file} and {file} would both be called {name!r} in "
                "results/dreams/; rename one of them (dream.photos in config.yaml)"
            )
        if not Path(file).is_file():
            raise CnnLensError(f"dream.photos: no file {file}; fix the path in config.yaml")
        sample = sample_photo.is_sample(file)
        table[name] = Photo(file, sample_photo.LABEL if sample else path, sample)
    return table


def photo_lookup(table: Mapping[str, Photo], attribute: str) -> Callable[[Any], Any]:
    """An input or params function: ``attribute`` (``input``, ``label``) of the photo the
    wildcard ``photo`` names."""
    return lambda wildcards: getattr(table[wildcards.photo], attribute)


# ---- checks made before any job starts ----


def check(settings: Settings, described: Network, facts: DatasetFacts) -> None:
    """Every check of the resolved config against the network and the data set's facts."""
    check_data_sizes(settings, facts)
    check_colormaps(settings)
    check_activations(settings, described)
    check_oip(settings, described)
    check_dream(settings, described)
    check_oip_study(settings, described)


def check_maps(described: Network, layer: str, maps: Sequence[int], setting: str) -> None:
    """Raise when ``setting`` lists maps that conv layer ``layer`` does not have."""
    available = described.require_conv(layer, setting).maps
    bad = [int(index) for index in maps if not 0 <= int(index) < available]
    if bad:
        raise CnnLensError(
            f"{setting} lists maps {bad} that {layer} does not have (it has 0..{available - 1}); "
            "fix it in config.yaml"
        )


def check_colormaps(settings: Settings) -> None:
    """Every colour map key names a colour map matplotlib has (checked without importing it)."""
    chosen = {
        "activations.grid.colormap": settings.activations.grid.colormap,
        "activations.compare.difference_colormap": settings.activations.compare.difference_colormap,
        "oip.colormap": settings.oip.colormap,
    }
    colormaps.check_names(chosen, colormaps.known_names())


def check_data_sizes(settings: Settings, facts: DatasetFacts) -> None:
    """Subsets, the validation split and listed test images fit the data set."""
    for split, size in (("train", facts.train_size), ("test", facts.test_size)):
        asked = getattr(settings.data.subset, split)
        if asked is not None and asked > size:
            raise CnnLensError(
                f"data.subset.{split} {asked} exceeds the {size} {split} images of the data "
                "set; lower it or set it to null (all)"
            )
    train = settings.data.subset.train or facts.train_size
    test = settings.data.subset.test or facts.test_size
    trained = not settings.model.file  # a model.file is not trained: no validation split
    if trained and settings.training.validation_size >= train:
        raise CnnLensError(
            f"training.validation_size {settings.training.validation_size} leaves no training "
            f"images of {train}; lower it or raise data.subset.train"
        )
    if settings.oip.test_images is not None and settings.oip.test_images > test:
        raise CnnLensError(
            f"oip.test_images {settings.oip.test_images} exceeds the {test} test images; lower "
            "it, set it to null (all), or raise data.subset.test"
        )
    beyond = [index for index in settings.activations.examples.test_indices if index >= test]
    if beyond:
        raise CnnLensError(
            f"activations.examples.test_indices {beyond} lie beyond the {test} test images "
            f"(0..{test - 1}); fix them or raise data.subset.test"
        )


def check_activations(settings: Settings, described: Network) -> None:
    """Layers exist; each pair is two different classes (by now label numbers of the model:
    :func:`cnnlens.resolution.resolve` has checked every class is one of its outputs)."""
    for layer in settings.activations.layers:
        described.layer(layer, "activations.layers")
    for first, second in settings.activations.pairs:
        if first == second:
            raise CnnLensError(
                f"activations.pairs [{first}, {second}]: give two different classes"
            )


def oip_dense_layers(settings: Settings, described: Network) -> tuple[str, ...]:
    """The dense layers whose units get OIPs: ``oip.dense_layers``, or all (null)."""
    chosen = settings.oip.dense_layers
    return described.dense_layers if chosen is None else tuple(chosen)


def check_oip(settings: Settings, described: Network) -> None:
    """Layers are conv (dense) layers, node maps exist, and the search settings fit together."""
    oip = settings.oip
    for layer in oip.layers:
        described.require_conv(layer, "oip.layers")
    for layer in oip.dense_layers or ():
        described.require_dense(layer, "oip.dense_layers")
    check_maps(described, oip.node_oips.layer, oip.node_oips.maps, "oip.node_oips.maps")
    check_noise_layers(oip, [*described.conv_layers, *described.dense_layers])
    check_search(oip)


def check_oip_study(settings: Settings, described: Network) -> None:
    """The study's layers are conv layers, its hand map exists, and every variant's keys and
    values fit the schema (the search's checks of a variant, which depend on the oip section,
    come when the stage is built: a shorter oip.steps must not stop the other stages)."""
    study = settings.oip_study
    for layer in study.layers:
        described.require_conv(layer, "oip_study.layers")
    check_maps(described, study.hand.layer, [study.hand.map], "oip_study.hand.map")
    variant_searches(settings.oip, study.variants, searchable=False)


def check_dream(settings: Settings, described: Network) -> None:
    """Layers and maps of the three kinds of dream exist and something is to be dreamed."""
    dream = settings.dream
    layer = dream.single_map.layer
    check_maps(described, layer, dream.single_map.maps, "dream.single_map.maps")
    check_maps(described, layer, dream.fine.maps, "dream.fine.maps")
    if not dream.single_map.maps and not dream.single_map.top_oip_maps:
        raise CnnLensError(
            "no map to dream with: set dream.single_map.maps or dream.single_map.top_oip_maps"
        )
    maps = described.require_conv(layer, "dream.single_map.layer").maps
    if dream.single_map.top_oip_maps > maps:
        raise CnnLensError(
            f"dream.single_map.top_oip_maps {dream.single_map.top_oip_maps} exceeds the {maps} "
            f"maps of {layer}; lower it"
        )
    if dream.single_map.top_oip_maps and layer not in settings.oip.layers:
        raise CnnLensError(
            f"dream.single_map.top_oip_maps needs the OIPs of {layer}: add it to oip.layers "
            "or set top_oip_maps to 0"
        )
    for key, weights in (("layers", dream.layers.weights), ("fine", dream.fine.weights)):
        for name in weights:
            described.require_conv(name, f"dream.{key}.weights")
    if not any(weight != 0 for weight in dream.layers.weights.values()):
        raise CnnLensError(
            "dream.layers.weights gives no layer a non-zero weight; weight at least one layer"
        )
    if not fine_render_names(dream.fine):
        raise CnnLensError(
            "dream.fine has nothing to dream: give a layer a non-zero weight or list maps"
        )
    check_max_side(dream.max_side, described)


def check_max_side(max_side: int, described: Network) -> None:
    """``dream.max_side`` is at least the model's input side (photos are never shrunk below
    the model's input)."""
    side = max(described.input_shape[:2])
    if max_side < side:
        raise CnnLensError(
            f"dream.max_side {max_side} is smaller than the model's input "
            f"({shape_text(described.input_shape)}); set it to at least {side}"
        )
