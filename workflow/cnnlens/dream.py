"""Dreams (SPEC 5): a photograph altered by the OIP ascent until a map or a layer sees its
patterns in it.

Three kinds of render, all driven by the shared ascent engine (:mod:`cnnlens.ascent`):

* **single map, one scale** (:func:`single_map_dreams`): the photo is shrunk to the CNN's
  28x28 view; the detail lost by shrinking is kept. Each round climbs the map's objective on
  the 28x28 image, enlarges the result, puts the lost detail back and shrinks it again. All
  maps are dreamed together, one batch image per map.
* **layer dream** (:func:`layer_dream`, classic DeepDream): the mean activation of all maps of
  some layers, weighted, climbed on octaves of the photo (smallest first) through the fully
  convolutional conv part; between octaves the dream is enlarged and the detail lost at that
  resolution put back.
* **finer length scales** (:func:`fine_dreams`): the full-size photo climbed directly through
  the fully convolutional conv part, whose units see 28x28 windows, so patterns appear at many
  places at the scale of the digits. The image is shifted at random before every step (and
  shifted back), so that no fixed grid of the conv part's stride and no border seam shows.

Every render reports its objective before and after (as the CNN sees the saved image) and the
correlation of the result with the photo (does the photo survive?).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from cnnlens.data import standardise_images
from cnnlens.errors import CnnLensError

if TYPE_CHECKING:
    import keras

    from cnnlens.ascent import AscentEngine, Objective

log = logging.getLogger(__name__)

#: The CNN's view: single-map dreams happen at this size.
VIEW_SHAPE = (28, 28)
#: Percentiles clipped when a result's value range is adjusted for display.
RANGE_PERCENTILES = (0.5, 99.5)


# --------------------------------------------------------------------------------------------
# Settings (from the dream section of the config)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SingleMapSettings:
    """Single-map dreams: which maps, how many rounds of how many ascent steps."""

    layer: str
    maps: tuple[int, ...]
    rounds: int
    steps: int
    epsilon: float

    @classmethod
    def from_config(
        cls, section: Mapping[str, Any], extra_maps: Sequence[int] = ()
    ) -> SingleMapSettings:
        """From ``dream.single_map``; ``extra_maps`` (the best OIPs) are added, no map twice."""
        maps = tuple(dict.fromkeys([*section["maps"], *extra_maps]))
        if not maps:
            raise CnnLensError(
                "no map to dream with: set dream.single_map.maps or dream.single_map.top_oip_maps"
            )
        return cls(section["layer"], maps, section["rounds"], section["steps"], section["epsilon"])


@dataclass(frozen=True)
class Climb:
    """The ascent on one image size: steps, step size, and the random shifts between steps."""

    steps: int
    epsilon: float
    max_shift: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> Climb:
        """From a config section with ``steps``, ``epsilon`` and ``max_shift``."""
        return cls(section["steps"], section["epsilon"], section["max_shift"])


@dataclass(frozen=True)
class LayerDreamSettings:
    """Layer dreams: layer weights, octaves and the climb on each octave."""

    weights: dict[str, float]
    octaves: int
    octave_scale: float
    climb: Climb

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> LayerDreamSettings:
        """From ``dream.layers``."""
        weights = nonzero_weights(section["weights"])
        if not weights:
            raise CnnLensError(
                "dream.layers.weights gives no layer a non-zero weight; weight at least one layer"
            )
        return cls(weights, section["octaves"], section["octave_scale"], Climb.from_config(section))


@dataclass(frozen=True)
class FineDreamSettings:
    """Full-size dreams: a layer mix and/or single maps of ``layer``."""

    weights: dict[str, float]
    layer: str
    maps: tuple[int, ...]
    climb: Climb

    @classmethod
    def from_config(cls, section: Mapping[str, Any], layer: str) -> FineDreamSettings:
        """From ``dream.fine``; its maps belong to ``layer`` (the single-map dreams' layer)."""
        weights = nonzero_weights(section["weights"])
        if not weights and not section["maps"]:
            raise CnnLensError(
                "dream.fine has nothing to dream: give a layer a non-zero weight or list maps"
            )
        maps = tuple(dict.fromkeys(section["maps"]))
        return cls(weights, layer, maps, Climb.from_config(section))

    @property
    def render_names(self) -> list[str]:
        """One render per objective: ``layers`` for the layer mix, then ``map_NNN`` per map."""
        return (["layers"] if self.weights else []) + [map_name(index) for index in self.maps]


def map_name(index: int) -> str:
    """``map_007``: how a map's dream is named in output paths."""
    return f"map_{index:03d}"


def nonzero_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The layer weights that are not 0 (a weight 0 switches a layer off)."""
    return {name: float(value) for name, value in weights.items() if value != 0}


def top_oip_maps(rows: Sequence[Mapping[str, str]], count: int) -> list[int]:
    """The ``count`` maps whose OIPs scored highest in an OIP summary (columns ``map``,
    ``status``, ``objective``); maps called dead, or with no positive objective, are skipped."""
    if count == 0:
        return []
    missing = {"map", "status", "objective"} - set(rows[0] if rows else {})
    if missing:
        raise CnnLensError(
            f"the OIP summary lacks the columns {sorted(missing)}; rerun the oip stage"
        )
    scored = [
        (float(row["objective"]), int(row["map"]))
        for row in rows
        if row["status"] != "dead" and float(row["objective"]) > 0
    ]
    return [index for _, index in sorted(scored, key=lambda pair: (-pair[0], pair[1]))[:count]]


def map_oips(paths: Sequence[str], maps: Sequence[int]) -> np.ndarray | None:
    """The OIPs (M, 28, 28) of ``maps`` from the OIP stage's per-map arrays, ``paths[k]`` being
    map k's; None when there are no paths (the OIP stage does not cover the layer)."""
    from cnnlens.files import load_array

    if not paths:
        return None
    return np.stack([load_array(paths[index]).reshape(VIEW_SHAPE) for index in maps])


# --------------------------------------------------------------------------------------------
# Resampling, detail, value range, correlation
# --------------------------------------------------------------------------------------------


def resize(images: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Bicubic (antialiased when shrinking) resize of grey images (N, H, W) to (N, *shape)."""
    import tensorflow as tf

    images = np.asarray(images, np.float32)
    if images.shape[1:] == tuple(shape):
        return images.copy()
    resized = tf.image.resize(
        images[..., np.newaxis], tuple(shape), method="bicubic", antialias=True
    )
    return resized.numpy()[..., 0]


def lost_detail(original: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """What shrinking ``original`` (H, W) to ``shape`` and enlarging it back loses."""
    small = resize(original[np.newaxis], shape)
    return original - resize(small, original.shape)[0]


def with_detail(dreams: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Small dreams (N, h, w) enlarged to ``original``'s size (H, W), with the detail that
    shrinking the original to (h, w) lost put back."""
    return resize(dreams, original.shape) + lost_detail(original, dreams.shape[1:])


def adjust_range(images: np.ndarray) -> np.ndarray:
    """Each image (H, W) of ``images`` (..., H, W) stretched to 0..1 between its 0.5 and 99.5
    percentiles (clipped beyond)."""
    low, high = np.percentile(images, RANGE_PERCENTILES, axis=(-2, -1), keepdims=True)
    return np.clip((images - low) / np.maximum(high - low, 1e-12), 0.0, 1.0).astype(np.float32)


def correlation_with(images: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Pearson correlation of each image (N, H, W) with ``reference`` (H, W)."""
    centred = images - images.mean(axis=(1, 2), keepdims=True)
    target = reference - reference.mean()
    numerator = (centred * target).sum(axis=(1, 2))
    denominator = np.sqrt((centred**2).sum(axis=(1, 2)) * (target**2).sum())
    return (numerator / np.maximum(denominator, 1e-12)).astype(np.float64)


def as_batch(images: np.ndarray) -> np.ndarray:
    """Grey images (N, H, W) standardised, as the engine's (N, H, W, 1) input."""
    return standardise_images(images)[..., np.newaxis]


# --------------------------------------------------------------------------------------------
# Random shifts around the engine's step
# --------------------------------------------------------------------------------------------


def shifted_ascent(
    engine: AscentEngine,
    images: np.ndarray,
    objective: Objective,
    climb: Climb,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """``climb.steps`` engine steps on (N, H, W, 1) images, each on the images rolled by a random
    offset of up to ``climb.max_shift`` pixels (the same for the batch) and rolled back after.

    Returns the final images and the (N, steps + 1) objective history: of the start images,
    of the shifted images the engine stepped from, and of the final images. With
    ``max_shift=0`` this is the engine's own loop (:func:`cnnlens.ascent.run_ascent`).
    """
    import tensorflow as tf

    start = tf.convert_to_tensor(np.asarray(images, np.float32))
    shifts = rng.integers(-climb.max_shift, climb.max_shift + 1, size=(climb.steps, 2))
    current, history = start, [engine.objective_tensor(start, objective).numpy()]
    for step, shift in enumerate(shifts.tolist()):
        moved, values = engine.step(tf.roll(current, shift, axis=(1, 2)), objective, climb.epsilon)
        current = tf.roll(moved, [-offset for offset in shift], axis=(1, 2))
        if step:
            history.append(values.numpy())
    history.append(engine.objective_tensor(current, objective).numpy())
    return current.numpy(), np.stack(history[: climb.steps + 1], axis=1)


# --------------------------------------------------------------------------------------------
# Single-map dreams
# --------------------------------------------------------------------------------------------


@dataclass
class SingleMapDreams:
    """The single-map dreams of one photo, one entry per map (first axis)."""

    maps: tuple[int, ...]
    small: np.ndarray  # (M, 28, 28) the 28x28 results (standardised)
    blurred: np.ndarray  # (M, H, W) the 28x28 results enlarged to full size
    final: np.ndarray  # (M, H, W) enlarged, detail put back, value range adjusted (0..1)
    objective_before: np.ndarray  # (M,) of the shrunk photo
    objective_rounds: np.ndarray  # (M, rounds) after the ascent of each round, at 28x28
    objective_after: np.ndarray  # (M,) of the final image as the CNN sees it (shrunk)
    correlation: np.ndarray  # (M,) of the final image with the photo


def single_map_dreams(
    model: keras.Model, photo: np.ndarray, settings: SingleMapSettings
) -> SingleMapDreams:
    """Dream every map of ``settings`` on ``photo`` (H, W), all maps in one batch."""
    from cnnlens import ascent

    engine = ascent.AscentEngine(model, [settings.layer])
    objective = ascent.map_objective(engine, settings.layer, settings.maps, revive=True)
    climb = ascent.AscentSettings(steps=settings.steps, epsilon=settings.epsilon)
    count = len(settings.maps)
    shrunk = np.repeat(resize(photo[np.newaxis], VIEW_SHAPE), count, axis=0)
    before = engine.objective(as_batch(shrunk), objective)
    rounds, small = [], shrunk
    for _ in range(settings.rounds):
        result = ascent.run_ascent(engine, as_batch(small), objective, climb)
        rounds.append(result.objective)
        dreamed = result.images[..., 0]
        enlarged = with_detail(dreamed, photo)  # full size, the lost detail put back
        small = resize(enlarged, VIEW_SHAPE)  # what the next round starts from
    final = adjust_range(enlarged)
    warn_unmoved(settings.layer, settings.maps, rounds[-1])
    return SingleMapDreams(
        maps=settings.maps,
        small=dreamed,
        blurred=resize(dreamed, photo.shape),
        final=final,
        objective_before=before,
        objective_rounds=np.stack(rounds, axis=1),
        objective_after=engine.objective(as_batch(resize(final, VIEW_SHAPE)), objective),
        correlation=correlation_with(final, photo),
    )


# --------------------------------------------------------------------------------------------
# Layer dreams over octaves
# --------------------------------------------------------------------------------------------


def warn_unmoved(layer: str, maps: Sequence[int], objective: np.ndarray) -> None:
    """Log the maps whose objective is still 0 after the ascent (they do not react to the photo
    even after the pre-activation revival)."""
    silent = [index for index, value in zip(maps, objective) if value <= 0]
    if silent:
        log.warning(
            "%s maps %s stayed at zero activation on this photo (dead maps or too few steps)",
            layer, silent,
        )


def octave_shapes(shape: Sequence[int], octaves: int, scale: float) -> list[tuple[int, int]]:
    """Sizes of the octaves, smallest first, the last one ``shape``; each ``scale`` times the
    previous one, none smaller than the CNN's 28x28 view (repeated sizes dropped)."""
    shapes: list[tuple[int, int]] = []
    for level in reversed(range(octaves)):
        size = tuple(max(VIEW_SHAPE[0], round(side / scale**level)) for side in shape)
        if not shapes or shapes[-1] != size:
            shapes.append(size)
    return shapes


@dataclass
class LayerDream:
    """A layer dream of one photo."""

    weights: dict[str, float]
    octaves: list[np.ndarray]  # the dream after each octave's ascent, smallest first
    final: np.ndarray  # (H, W) value range adjusted (0..1)
    objective_before: float  # of the photo at full size
    objective_octaves: list[list[float]]  # per octave, the objective before and after its ascent
    objective_after: float  # of the final image at full size
    correlation: float


def layer_dream(
    model: keras.Model,
    photo: np.ndarray,
    settings: LayerDreamSettings,
    rng: np.random.Generator,
) -> LayerDream:
    """Classic DeepDream of ``photo`` (H, W): the weighted layer mix, climbed octave by octave."""
    from cnnlens import ascent

    engine = ascent.AscentEngine(model, list(settings.weights), input_shape=(None, None, 1))
    objective = ascent.layer_objective(engine, 1, settings.weights)
    shapes = octave_shapes(photo.shape, settings.octaves, settings.octave_scale)
    dream = resize(photo[np.newaxis], shapes[0])
    octaves, histories = [], []
    for index, shape in enumerate(shapes):
        if index:
            dream = with_detail(dream, resize(photo[np.newaxis], shape)[0])
        images, history = shifted_ascent(engine, as_batch(dream), objective, settings.climb, rng)
        dream = images[..., 0]
        octaves.append(dream[0])
        histories.append([float(history[0, 0]), float(history[0, -1])])
    final = adjust_range(dream)
    return LayerDream(
        weights=settings.weights,
        octaves=octaves,
        final=final[0],
        objective_before=float(engine.objective(as_batch(photo[np.newaxis]), objective)[0]),
        objective_octaves=histories,
        objective_after=float(engine.objective(as_batch(final), objective)[0]),
        correlation=float(correlation_with(final, photo)[0]),
    )


# --------------------------------------------------------------------------------------------
# Full-size dreams (finer length scales)
# --------------------------------------------------------------------------------------------


@dataclass
class FineDreams:
    """Full-size dreams of one photo, one per objective (the layer mix and single maps)."""

    names: list[str]
    final: np.ndarray  # (K, H, W) value range adjusted (0..1)
    objective_before: np.ndarray  # (K,)
    objective_after: np.ndarray  # (K,)
    history: np.ndarray  # (K, steps + 1)
    correlation: np.ndarray  # (K,)


def fine_objective(engine: AscentEngine, settings: FineDreamSettings) -> Objective:
    """One batch image per render: the layer mix first (if any), then each map."""
    from cnnlens import ascent

    parts = []
    if settings.weights:
        parts.append(ascent.layer_objective(engine, 1, settings.weights))
    if settings.maps:
        parts.append(ascent.map_objective(engine, settings.layer, settings.maps, revive=True))
    return ascent.Objective(
        weights=tuple(np.concatenate(layer) for layer in zip(*(part.weights for part in parts))),
        masks=(None,) * len(engine.layer_names),
        revive=np.concatenate([part.revive for part in parts]),
    )


def fine_dreams(
    model: keras.Model,
    photo: np.ndarray,
    settings: FineDreamSettings,
    rng: np.random.Generator,
) -> FineDreams:
    """Dream every objective of ``settings`` on the full-size ``photo`` (H, W), in one batch."""
    from cnnlens import ascent

    layers = sorted({*settings.weights, *([settings.layer] if settings.maps else [])})
    engine = ascent.AscentEngine(model, layers, input_shape=(None, None, 1))
    objective = fine_objective(engine, settings)
    start = np.repeat(as_batch(photo[np.newaxis]), objective.batch, axis=0)
    images, history = shifted_ascent(engine, start, objective, settings.climb, rng)
    final = adjust_range(images[..., 0])
    return FineDreams(
        names=settings.render_names,
        final=final,
        objective_before=engine.objective(start, objective),
        objective_after=engine.objective(as_batch(final), objective),
        history=history,
        correlation=correlation_with(final, photo),
    )


# --------------------------------------------------------------------------------------------
# Metrics records (metrics.json, one per render)
# --------------------------------------------------------------------------------------------


@dataclass
class RenderMetrics:
    """What ``metrics.json`` says about one render."""

    photo: str
    kind: str
    objective: str
    objective_before: float
    objective_after: float
    correlation_with_photo: float
    details: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The JSON document."""
        record = asdict(self)
        record["objective_gain"] = self.objective_after - self.objective_before
        record["raised"] = self.objective_after > self.objective_before
        return record


FULL_SIZE = "the full-size image, standardised, through the fully convolutional conv part"


def batch_metrics(
    kind: str,
    photo: str,
    objectives: Sequence[str],
    measured: tuple[np.ndarray, np.ndarray, np.ndarray],
    details: Sequence[dict[str, Any]],
) -> list[RenderMetrics]:
    """One record per render of a batch; ``measured`` = (objective before, after, correlation)."""
    before, after, correlation = measured
    return [
        RenderMetrics(photo, kind, objective, float(start), float(end), float(kept), detail)
        for objective, start, end, kept, detail in zip(
            objectives, before, after, correlation, details
        )
    ]


def single_map_metrics(
    dreams: SingleMapDreams, photo: str, settings: SingleMapSettings
) -> list[RenderMetrics]:
    """One record per map."""
    shared = {"measured_on": "the image shrunk to 28x28 and standardised",
              "settings": asdict(settings)}
    return batch_metrics(
        "single_map",
        photo,
        [describe_map(settings.layer, index) for index in dreams.maps],
        (dreams.objective_before, dreams.objective_after, dreams.correlation),
        [
            {"layer": settings.layer, "map": index, **shared,
             "objective_after_each_round": rounds.tolist()}
            for index, rounds in zip(dreams.maps, dreams.objective_rounds)
        ],
    )


def layer_metrics(dream: LayerDream, photo: str, settings: LayerDreamSettings) -> RenderMetrics:
    """The record of a layer dream."""
    details = {
        "measured_on": FULL_SIZE,
        "octave_shapes": [list(octave.shape) for octave in dream.octaves],
        "objective_before_and_after_each_octave": dream.objective_octaves,
        "settings": asdict(settings),
    }
    return RenderMetrics(
        photo, "layer_dream", describe_mix(settings.weights), dream.objective_before,
        dream.objective_after, dream.correlation, details,
    )


def fine_metrics(
    dreams: FineDreams, photo: str, settings: FineDreamSettings
) -> list[RenderMetrics]:
    """One record per full-size render."""
    objectives = ([describe_mix(settings.weights)] if settings.weights else []) + [
        describe_map(settings.layer, index) for index in settings.maps
    ]
    return batch_metrics(
        "fine_dream",
        photo,
        objectives,
        (dreams.objective_before, dreams.objective_after, dreams.correlation),
        [
            {"render": name, "measured_on": FULL_SIZE, "settings": asdict(settings)}
            for name in dreams.names
        ],
    )


def describe_map(layer: str, index: int) -> str:
    """``mean ReLU activation of Conv2D_3 map 7``."""
    return f"mean ReLU activation of {layer} map {index}"


def describe_mix(weights: Mapping[str, float]) -> str:
    """``1 x mean ReLU activation of all Conv2D_2 maps + 1 x ... Conv2D_3 maps``."""
    return " + ".join(
        f"{value:g} x mean ReLU activation of all {name} maps" for name, value in weights.items()
    )
