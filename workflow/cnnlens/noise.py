"""Multi-scale start images for the OIP search, seeded per image, and staged noise.

A start image is a sum of random fluctuations on several length scales: for each scale ``d``
(cells per side of the model's input) uniform values in [-1, 1] on a d x d grid, drawn for
every channel of the input (grey 1, colour 3), are resized bicubically (antialiased, as Pillow
does it) to the image size, multiplied by that scale's factor, summed, and the sum is
standardised over all pixels and channels. A small ``d`` gives long-range fluctuations, ``d``
equal to the image side pixel noise; a scale larger than a side is clipped to that side (there
is no finer noise than pixel noise).

The standardised start images are then put into the model's input range
(:func:`to_input_range`): as they are for per-image standardisation, or, for a bounded range
[low, high] (``unit``, ``none`` preprocessing), mid-range plus the noise times a sixth of the
span (:func:`range_unit`), clipped to the range.

Every image has its own random generator, keyed by (seed, layer, map, restart, candidate), so
an image does not change when the maps are split into other chunks or batches. The resize is
separable and linear, so it is one matrix product per scale for the whole batch.

:class:`StagedNoise` is the staged strategy's schedule for the ascent loop: the start images
hold only the longest-range scale, and each finer scale is added at its stage's first step.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from cnnlens.errors import CnnLensError
from cnnlens.preprocessing import Preprocessing, standardise

Size = tuple[int, int]
#: A bounded input range is this many standardised units wide (start noise, ascent steps).
UNITS_PER_SPAN = 6.0


def check_scales(scales: Sequence[int], factors: Sequence[float], setting: str) -> None:
    """Raise unless scales and factors pair up, scales are >= 1 and some factor is positive;
    the message names ``setting``, where they come from."""
    if len(scales) != len(factors) or not scales:
        raise CnnLensError(
            f"{setting}: noise scales {list(scales)} and factors {list(factors)} must be "
            "non-empty lists of the same length; fix it in config.yaml"
        )
    if min(scales) < 1 or min(factors) < 0 or max(factors) <= 0:
        raise CnnLensError(
            f"{setting}: noise scales must be >= 1 and factors >= 0 with one positive; got "
            f"scales {list(scales)}, factors {list(factors)}"
        )


@lru_cache(maxsize=64)
def resize_matrix(cells: int, size: int) -> np.ndarray:
    """(size, cells) matrix R with R @ grid @ R.T = Pillow's bicubic resize of a square grid
    to size x size (and, with two sizes, R_rows @ grid @ R_columns.T the resize to a
    rectangle)."""
    columns = []
    for cell in range(cells):
        basis = np.zeros((1, cells), np.float32)
        basis[0, cell] = 1.0
        resized = Image.fromarray(basis).resize((size, 1), Image.Resampling.BICUBIC)
        columns.append(np.asarray(resized, np.float32)[0])
    return np.stack(columns, axis=1)


def image_key(
    seed: int, layer: str, map_index: int, restart: int, candidate: int = -1
) -> list[int]:
    """The entropy of one start image's generator; ``candidate`` -1 is the restart's own start."""
    return [seed, zlib.crc32(layer.encode()), map_index, restart, candidate + 1]


def grid_cells(cells: int, size: Size) -> tuple[int, int]:
    """(rows, columns) of a scale's grid on images of ``size``: ``cells`` per side, at most
    the side (a scale larger than the image is pixel noise)."""
    return min(int(cells), int(size[0])), min(int(cells), int(size[1]))


def draw_grids(
    keys: Sequence[Sequence[int]], scales: Sequence[int], size: Size, channels: int = 1
) -> list[np.ndarray]:
    """For each scale, (N, rows, columns, channels) uniform values in [-1, 1] (rows and columns
    from :func:`grid_cells`), image i drawn from ``keys[i]``.

    Every scale is drawn from every image's generator in the same order, so a scale's values do
    not depend on the factors (a factor 0 keeps the others' values unchanged).
    """
    generators = [np.random.default_rng(list(key)) for key in keys]
    grids = []
    for cells in scales:
        shape = (*grid_cells(cells, size), channels)
        drawn = [generator.uniform(-1.0, 1.0, shape) for generator in generators]
        grids.append(np.stack(drawn).astype(np.float32).reshape(len(keys), *shape))
    return grids


def scale_components(
    keys: Sequence[Sequence[int]], scales: Sequence[int], size: Size, channels: int = 1
) -> np.ndarray:
    """(scales, N, height, width, channels): each image's fluctuations on each scale, resized,
    unweighted; ``size`` is the images' (height, width)."""
    height, width = (int(side) for side in size)
    components = np.zeros((len(scales), len(keys), height, width, channels), np.float32)
    for index, grids in enumerate(draw_grids(keys, scales, size, channels)):
        rows = resize_matrix(grids.shape[1], height)
        columns = resize_matrix(grids.shape[2], width)
        for channel in range(channels):
            grid = np.ascontiguousarray(grids[..., channel])
            components[index, ..., channel] = np.einsum("ic,ncd,jd->nij", rows, grid, columns)
    return components


def standardise_noise(images: np.ndarray) -> np.ndarray:
    """(N, H, W, C) images each standardised over all pixels and channels (a grey batch
    exactly as (N, H, W) images always were)."""
    if images.shape[-1] == 1:
        return standardise(images[..., 0])[..., np.newaxis]
    return standardise(images)


def combine(components: np.ndarray, factors: Sequence[float]) -> np.ndarray:
    """Standardised (N, height, width, channels) images: the factor-weighted sum of the
    components."""
    weights = np.asarray(factors, np.float32)[:, None, None, None, None]
    return standardise_noise((weights * components).sum(axis=0))


def multiscale_noise(
    keys: Sequence[Sequence[int]],
    scales: Sequence[int],
    factors: Sequence[float],
    size: Size,
    channels: int = 1,
) -> np.ndarray:
    """(N, height, width, channels) standardised start images, image i from ``keys[i]``."""
    check_scales(scales, factors, "the start noise")
    return combine(scale_components(keys, scales, size, channels), factors)


def range_unit(preprocessing: Preprocessing | None) -> float:
    """What one standardised unit of noise (or of an ascent step) is in the model's input
    range: 1 for per-image standardisation (None too), a sixth of [low, high] for a bounded
    range."""
    if preprocessing is None or not preprocessing.bounded:
        return 1.0
    return (preprocessing.high - preprocessing.low) / UNITS_PER_SPAN


def to_input_range(images: np.ndarray, preprocessing: Preprocessing | None) -> np.ndarray:
    """Standardised noise images put into the model's input range: unchanged for per-image
    standardisation (or None); mid-range plus the noise in :func:`range_unit` s, clipped to
    [low, high], for a bounded range."""
    if preprocessing is None or not preprocessing.bounded:
        return images
    middle = (preprocessing.low + preprocessing.high) / 2
    return preprocessing.project(middle + range_unit(preprocessing) * images)


@dataclass(frozen=True)
class StagedNoise:
    """Staged noise for the ascent loop (:func:`cnnlens.optvis.render.render`'s schedule).

    ``components`` (scales, N, height, width, channels) are the images' unweighted
    fluctuations (:func:`scale_components`); ``stage_starts[k]`` is the step at which the
    (k + 2)-th longest-range scale is added: its weighted component is added and the image
    standardised again (or, for a bounded input range, the component in :func:`range_unit` s
    added and the image clipped to the range).
    """

    components: np.ndarray
    scales: tuple[int, ...]
    factors: tuple[float, ...]
    stage_starts: tuple[int, ...]
    preprocessing: Preprocessing | None = None

    @property
    def order(self) -> np.ndarray:
        """Scale indices from the longest range (fewest cells) to the shortest."""
        return np.argsort(self.scales, kind="stable")

    @property
    def last_change(self) -> int:
        return self.stage_starts[-1] if self.stage_starts else 0

    def start_images(self) -> np.ndarray:
        """(N, height, width, channels): the longest-range scale alone, standardised, in the
        model's input range."""
        factors = np.asarray(self.factors)
        factors = np.where(np.arange(len(factors)) == self.order[0], factors, 0.0)
        return to_input_range(combine(self.components, factors), self.preprocessing)

    def __call__(self, step: int, images: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
        """The images of batch rows ``rows`` with this step's scales added, or None."""
        stages = [stage for stage, start in enumerate(self.stage_starts, 1) if start == step]
        if not stages:
            return None
        bounded = self.preprocessing is not None and self.preprocessing.bounded
        for stage in stages:
            scale = self.order[stage]
            added = self.factors[scale] * self.components[scale][rows]
            if bounded:
                images = self.preprocessing.project(images + range_unit(self.preprocessing) * added)
            else:
                images = standardise(images + added)
        return images
