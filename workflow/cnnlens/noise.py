"""Multi-scale start images for the OIP search, seeded per image, and staged noise.

A start image is a sum of random fluctuations on several length scales: for each scale ``d``
(cells per side) uniform values in [-1, 1] on a d x d grid are resized bicubically (antialiased,
as Pillow does it) to the image size, multiplied by that scale's factor, summed, and the sum is
standardised. A small ``d`` gives long-range fluctuations, ``d`` equal to the image side pixel
noise.

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

from cnnlens.data import standardise_images
from cnnlens.errors import CnnLensError

Size = tuple[int, int]


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


def draw_grids(keys: Sequence[Sequence[int]], scales: Sequence[int]) -> list[np.ndarray]:
    """For each scale, (N, d, d) uniform values in [-1, 1], image i drawn from ``keys[i]``.

    Every scale is drawn from every image's generator in the same order, so a scale's values do
    not depend on the factors (a factor 0 keeps the others' values unchanged).
    """
    generators = [np.random.default_rng(list(key)) for key in keys]
    return [
        np.stack([generator.uniform(-1.0, 1.0, (cells, cells)) for generator in generators])
        .astype(np.float32)
        .reshape(len(keys), cells, cells)
        for cells in scales
    ]


def scale_components(
    keys: Sequence[Sequence[int]], scales: Sequence[int], size: Size
) -> np.ndarray:
    """(scales, N, height, width): each image's fluctuations on each scale, resized,
    unweighted; ``size`` is the images' (height, width)."""
    height, width = (int(side) for side in size)
    components = np.zeros((len(scales), len(keys), height, width), np.float32)
    for index, (cells, grids) in enumerate(zip(scales, draw_grids(keys, scales))):
        rows, columns = resize_matrix(int(cells), height), resize_matrix(int(cells), width)
        components[index] = np.einsum("ic,ncd,jd->nij", rows, grids, columns)
    return components


def combine(components: np.ndarray, factors: Sequence[float]) -> np.ndarray:
    """Standardised (N, height, width, 1) images: the factor-weighted sum of the components."""
    weights = np.asarray(factors, np.float32)[:, None, None, None]
    return standardise_images((weights * components).sum(axis=0))[..., np.newaxis]


def multiscale_noise(
    keys: Sequence[Sequence[int]], scales: Sequence[int], factors: Sequence[float], size: Size
) -> np.ndarray:
    """(N, height, width, 1) standardised start images, image i from generator ``keys[i]``."""
    check_scales(scales, factors, "the start noise")
    return combine(scale_components(keys, scales, size), factors)


@dataclass(frozen=True)
class StagedNoise:
    """Staged noise for the ascent loop (:func:`cnnlens.optvis.render.render`'s schedule).

    ``components`` (scales, N, height, width) are the images' unweighted fluctuations
    (:func:`scale_components`); ``stage_starts[k]`` is the step at which the (k + 2)-th
    longest-range scale is added: its weighted component is added and the image
    standardised again.
    """

    components: np.ndarray
    scales: tuple[int, ...]
    factors: tuple[float, ...]
    stage_starts: tuple[int, ...]

    @property
    def order(self) -> np.ndarray:
        """Scale indices from the longest range (fewest cells) to the shortest."""
        return np.argsort(self.scales, kind="stable")

    @property
    def last_change(self) -> int:
        return self.stage_starts[-1] if self.stage_starts else 0

    def start_images(self) -> np.ndarray:
        """(N, height, width, 1): the longest-range scale alone, standardised."""
        factors = np.asarray(self.factors)
        factors = np.where(np.arange(len(factors)) == self.order[0], factors, 0.0)
        return combine(self.components, factors)

    def __call__(self, step: int, images: np.ndarray, rows: np.ndarray) -> np.ndarray | None:
        """The images of batch rows ``rows`` with this step's scales added, or None."""
        stages = [stage for stage, start in enumerate(self.stage_starts, 1) if start == step]
        if not stages:
            return None
        for stage in stages:
            scale = self.order[stage]
            added = self.factors[scale] * self.components[scale][rows][..., None]
            images = standardise_images(images + added)
        return images
