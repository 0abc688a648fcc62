"""Multi-scale start images for the OIP search (SPEC 4.1), seeded per image.

A start image is a sum of random fluctuations on several length scales: for each scale ``d``
(cells per side) uniform values in [-1, 1] on a d x d grid are resized bicubically (antialiased,
as Pillow does it) to the image size, multiplied by that scale's factor, summed, and the sum is
standardised. A small ``d`` gives long-range fluctuations, ``d = 28`` pixel noise.

Every image has its own random generator, keyed by (seed, layer, map, restart, candidate), so
an image does not change when the maps are split into other chunks or batches. The resize is
separable and linear, so it is one matrix product per scale for the whole batch.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from cnnlens.data import standardise_images
from cnnlens.errors import CnnLensError

IMAGE_SIZE = 28


def check_scales(scales: Sequence[int], factors: Sequence[float]) -> None:
    """Raise unless scales and factors pair up, scales are >= 1 and some factor is positive."""
    if len(scales) != len(factors) or not scales:
        raise CnnLensError(
            f"noise scales {list(scales)} and factors {list(factors)} must be non-empty lists "
            "of the same length; fix oip.noise in config.yaml"
        )
    if min(scales) < 1 or min(factors) < 0 or max(factors) <= 0:
        raise CnnLensError(
            f"noise scales must be >= 1 and factors >= 0 with one positive; got scales "
            f"{list(scales)}, factors {list(factors)}"
        )


@lru_cache(maxsize=64)
def resize_matrix(cells: int, size: int = IMAGE_SIZE) -> np.ndarray:
    """(size, cells) matrix R with R @ grid @ R.T = Pillow's bicubic resize of a square grid."""
    from PIL import Image

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
    keys: Sequence[Sequence[int]], scales: Sequence[int], size: int = IMAGE_SIZE
) -> np.ndarray:
    """(scales, N, size, size): each image's fluctuations on each scale, resized, unweighted."""
    components = np.zeros((len(scales), len(keys), size, size), np.float32)
    for index, (cells, grids) in enumerate(zip(scales, draw_grids(keys, scales))):
        resize = resize_matrix(int(cells), size)
        components[index] = np.einsum("ic,ncd,jd->nij", resize, grids, resize)
    return components


def combine(components: np.ndarray, factors: Sequence[float]) -> np.ndarray:
    """Standardised (N, size, size, 1) images: the factor-weighted sum of the components."""
    weights = np.asarray(factors, np.float32)[:, None, None, None]
    return standardise_images((weights * components).sum(axis=0))[..., np.newaxis]


def multiscale_noise(
    keys: Sequence[Sequence[int]],
    scales: Sequence[int] = (3, 7, 14, 28),
    factors: Sequence[float] = (0.5, 0.5, 0.5, 0.5),
    size: int = IMAGE_SIZE,
) -> np.ndarray:
    """(N, size, size, 1) standardised start images, image i from generator ``keys[i]``."""
    check_scales(scales, factors)
    return combine(scale_components(keys, scales, size), factors)


def restart_keys(seed: int, layer: str, maps: Sequence[int], restarts: int) -> list[list[int]]:
    """Keys of every (map, restart), map-major: map 0's restarts first."""
    return [image_key(seed, layer, int(k), restart) for k in maps for restart in range(restarts)]


def candidate_keys(
    seed: int, layer: str, pairs: Sequence[tuple[int, int]], candidates: int
) -> list[list[int]]:
    """Keys of the screen candidates of each (map, restart) pair, pair-major."""
    return [
        image_key(seed, layer, int(k), int(restart), candidate)
        for k, restart in pairs
        for candidate in range(candidates)
    ]
