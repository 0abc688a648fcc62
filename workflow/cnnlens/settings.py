"""The settings tree: config.yaml's sections as frozen dataclasses, field names equal to keys.

Nothing here has a default value: the JSON schema (``workflow/schemas/config.schema.yaml``)
is the one place where defaults are written, and it fills them in while the config is
validated. :func:`build` (:mod:`cnnlens.dataclass_building`) turns a validated mapping into
the matching dataclass, recursively (lists become tuples, nested sections their own
dataclasses).

Where a rule depends on only part of a section, that part is a base class of the section
(e.g. :class:`OipSearch` is the part of :class:`Oip` a search's results depend on), so the
rule's ``params`` carry exactly :func:`keys_of` that part and its script rebuilds it with
:func:`build`. No TensorFlow, no matplotlib: the rule files use this module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

# the rules and scripts call settings.build and settings.keys_of
from cnnlens.dataclass_building import build, keys_of  # noqa: F401

# ---- data ----


@dataclasses.dataclass(frozen=True)
class Subset:
    """``data.subset``: the first images of each split (None: all)."""

    train: int | None
    test: int | None


@dataclasses.dataclass(frozen=True)
class Data:
    """``data``: which images, from where."""

    dataset: str
    source_dir: str | None
    file: str | None
    class_names: tuple[str, ...] | None
    download_cache: str
    subset: Subset


# ---- model ----


@dataclasses.dataclass(frozen=True)
class Model:
    """``model``: the CNN to train (architecture) or to take as it is (file), and its input."""

    file: str | None
    preprocessing: str
    architecture: tuple[dict[str, Any], ...]


# ---- training ----


@dataclasses.dataclass(frozen=True)
class Optimizer:
    """``training.optimizer``: SGD with momentum."""

    learning_rate: float
    momentum: float
    nesterov: bool


@dataclasses.dataclass(frozen=True)
class LrSchedule:
    """``training.lr_schedule``: the learning rate over the steps."""

    kind: str
    final_fraction: float


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """``training.augmentation``: random shifts of the training images."""

    shift_pixels: float


@dataclasses.dataclass(frozen=True)
class Training:
    """``training``: how the CNN is fitted."""

    epochs: int
    batch_size: int
    validation_size: int
    optimizer: Optimizer
    lr_schedule: LrSchedule
    l2: float
    augmentation: Augmentation
    mixed_precision: str


# ---- activations ----


@dataclasses.dataclass(frozen=True)
class Examples:
    """``activations.examples``: which test images are drawn."""

    classes: tuple[int, ...]
    confident_per_class: int
    ambiguous_per_class: int
    test_indices: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class GridLayout:
    """The keys of ``activations.grid`` that place and colour tiles (the comparisons use them)."""

    colormap: str
    columns: int
    dense_columns: int


@dataclasses.dataclass(frozen=True)
class Grid(GridLayout):
    """``activations.grid``: the layout plus raw or standardised values."""

    values: str


@dataclasses.dataclass(frozen=True)
class Compare:
    """``activations.compare``: how class pairs are compared and shown."""

    difference_colormap: str
    top: int
    large_effect: float


@dataclasses.dataclass(frozen=True)
class Activations:
    """``activations``: grids of selected images and class comparisons."""

    layers: tuple[str, ...]
    pairs: tuple[tuple[int, int], ...]
    examples: Examples
    grid: Grid
    compare: Compare


# ---- oip ----


@dataclasses.dataclass(frozen=True)
class Convergence:
    """``oip.convergence``: when a climb counts as converged."""

    threshold: float
    patience: int
    early_stop: bool


@dataclasses.dataclass(frozen=True)
class Scales:
    """Noise length scales and their amplitudes (``oip.noise.per_layer.{layer}``)."""

    scales: tuple[int, ...]
    factors: tuple[float, ...]


@dataclasses.dataclass(frozen=True)
class Noise(Scales):
    """``oip.noise``: the start images' length scales and amplitudes, and per layer others."""

    per_layer: dict[str, Scales]


@dataclasses.dataclass(frozen=True)
class Strategy:
    """``oip.strategy``: all noise scales at once, or staged."""

    kind: str
    stage_starts: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class Revival:
    """``oip.revival``: waking maps that do not react to a start image."""

    candidates: int
    screen_steps: int
    scales: tuple[int, ...]
    factors: tuple[float, ...]
    pooling: str
    extra_steps: int
    screen: str


@dataclasses.dataclass(frozen=True)
class OipTransforms:
    """``oip.transforms``: random warps of the images inside every ascent step."""

    jitter: int
    scale: float
    rotate: float


@dataclasses.dataclass(frozen=True)
class Regularisers:
    """``oip.regularisers``: penalties climbed with the objective, and blurring."""

    total_variation: float
    l2: float
    blur_every: int
    blur_sigma: float


@dataclasses.dataclass(frozen=True)
class NodeOips:
    """``oip.node_oips``: one OIP per node of chosen maps."""

    layer: str
    maps: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class OipSearch:
    """The keys of the ``oip`` section that a search's results depend on."""

    restarts: int
    steps: int
    epsilon: float
    convergence: Convergence
    snapshot_steps: tuple[int, ...] | None
    noise: Noise
    strategy: Strategy
    revival: Revival
    compute_dtype: str
    batch_size: int
    test_images: int | None
    param: str
    transforms: OipTransforms
    regularisers: Regularisers
    diversity: float


@dataclasses.dataclass(frozen=True)
class Oip(OipSearch):
    """The whole ``oip`` section: the search, which layers and jobs, and the figures."""

    layers: tuple[str, ...]
    dense_layers: tuple[str, ...] | None
    maps_per_job: int | None
    colormap: str
    node_oips: NodeOips


# ---- dream ----


@dataclasses.dataclass(frozen=True)
class SingleMap:
    """``dream.single_map``: one map at the CNN's input size."""

    layer: str
    maps: tuple[int, ...]
    top_oip_maps: int
    rounds: int
    steps: int
    epsilon: float


@dataclasses.dataclass(frozen=True)
class LayerDream:
    """``dream.layers``: whole layers, octave by octave."""

    weights: dict[str, float]
    octaves: int
    octave_scale: float
    steps: int
    epsilon: float
    max_shift: int


@dataclasses.dataclass(frozen=True)
class FineDream:
    """``dream.fine``: the full-size photo, layer mixes and maps."""

    weights: dict[str, float]
    maps: tuple[int, ...]
    steps: int
    epsilon: float
    max_shift: int


@dataclasses.dataclass(frozen=True)
class Dream:
    """``dream``: the photos and the three kinds of dream."""

    photos: tuple[str, ...]
    max_side: int
    compute_dtype: str
    single_map: SingleMap
    layers: LayerDream
    fine: FineDream


# ---- atlas ----


@dataclasses.dataclass(frozen=True)
class Atlas:
    """``atlas``: the static site of every unit and selected test image."""

    top_k: int
    image_units: int
    thumbnail_scale: int
    frame_ms: int


# ---- attribution ----


@dataclasses.dataclass(frozen=True)
class AttributionMethods:
    """The keys of ``attribution`` the methods' results depend on."""

    smoothgrad_samples: int
    smoothgrad_noise: float
    integrated_gradients_steps: int
    blur_sigma: float


@dataclasses.dataclass(frozen=True)
class Attribution(AttributionMethods):
    """``attribution``: the methods, the deletion curves and the maps named per class."""

    deletion_images: int
    deletion_step: float
    top_maps: int


# ---- oip_study ----


@dataclasses.dataclass(frozen=True)
class Hand:
    """``oip_study.hand``: one map climbed from starts of one noise scale per series."""

    layer: str | None
    map: int
    scales: tuple[int, ...]
    seeds: int


@dataclasses.dataclass(frozen=True)
class OipStudy:
    """``oip_study``: variants of the OIP search compared per conv layer, and the hand series."""

    layers: tuple[str, ...] | None
    variants: dict[str, dict[str, Any]]
    hand: Hand


# ---- trainings ----


@dataclasses.dataclass(frozen=True)
class Trainings:
    """``trainings``: further trainings and the matching of their maps with the main model's."""

    runs: int
    match_threshold: float
    oip_pairs: int


# ---- the whole config ----


@dataclasses.dataclass(frozen=True)
class Settings:
    """The whole config."""

    seed: int
    data: Data
    model: Model
    training: Training
    activations: Activations
    oip: Oip
    dream: Dream
    atlas: Atlas
    attribution: Attribution
    oip_study: OipStudy
    trainings: Trainings


# ---- building ----


def from_config(config: Mapping[str, Any]) -> Settings:
    """The whole settings tree of a validated config."""
    return build(Settings, config)
