"""Multi-scale start images: the resize, the mixing of scales, and per-image seeding."""

from __future__ import annotations

import numpy as np
import pytest
from cnnlens import noise
from cnnlens.errors import CnnLensError
from PIL import Image


@pytest.mark.parametrize("cells", [2, 3, 7, 14, 28, 40])
def test_resize_matrix_is_pillows_bicubic_resize(cells):
    grid = np.random.default_rng(cells).uniform(-1, 1, (cells, cells)).astype(np.float32)
    expected = np.asarray(Image.fromarray(grid).resize((28, 28), Image.Resampling.BICUBIC))
    resize = noise.resize_matrix(cells)
    np.testing.assert_allclose(resize @ grid @ resize.T, expected, atol=1e-5)


def test_start_images_are_standardised_float32():
    keys = noise.restart_keys(1, "Conv2D_3", range(5), 3)
    images = noise.multiscale_noise(keys)
    assert images.shape == (15, 28, 28, 1) and images.dtype == np.float32
    np.testing.assert_allclose(images.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(images.std(axis=(1, 2, 3)), 1, atol=1e-4)


def test_an_image_depends_only_on_its_own_key():
    keys = noise.restart_keys(7, "Conv2D_2", [3, 4, 5], 2)
    together = noise.multiscale_noise(keys)
    alone = noise.multiscale_noise(keys[3:4])
    reordered = noise.multiscale_noise(keys[::-1])
    np.testing.assert_array_equal(alone[0], together[3])
    np.testing.assert_array_equal(reordered[::-1], together)
    assert len({image.tobytes() for image in together}) == len(keys)


def test_keys_differ_by_seed_layer_map_restart_and_candidate():
    base = noise.image_key(1, "Conv2D_3", 5, 0)
    variants = [
        noise.image_key(2, "Conv2D_3", 5, 0),
        noise.image_key(1, "Conv2D_2", 5, 0),
        noise.image_key(1, "Conv2D_3", 6, 0),
        noise.image_key(1, "Conv2D_3", 5, 1),
        noise.image_key(1, "Conv2D_3", 5, 0, candidate=0),
    ]
    images = noise.multiscale_noise([base, *variants])
    for image in images[1:]:
        assert not np.allclose(image, images[0])


def test_a_zero_factor_removes_its_scale_and_keeps_the_others():
    keys = noise.restart_keys(3, "Conv2D_1", [0, 1], 2)
    with_zero = noise.multiscale_noise(keys, scales=(3, 28), factors=(1.0, 0.0))
    only_long = noise.multiscale_noise(keys, scales=(3,), factors=(1.0,))
    np.testing.assert_allclose(with_zero, only_long, atol=1e-6)


def neighbour_correlation(images: np.ndarray) -> float:
    left, right = images[:, :, :-1].ravel(), images[:, :, 1:].ravel()
    return float(np.corrcoef(left, right)[0, 1])


def test_long_range_scales_are_smooth_and_short_range_ones_are_not():
    keys = noise.restart_keys(5, "Conv2D_3", range(20), 1)
    smooth = noise.multiscale_noise(keys, scales=(3,), factors=(1.0,))
    rough = noise.multiscale_noise(keys, scales=(28,), factors=(1.0,))
    assert neighbour_correlation(smooth) > 0.9
    assert abs(neighbour_correlation(rough)) < 0.1


@pytest.mark.parametrize(
    "scales, factors",
    [((3, 7), (0.5,)), ((), ()), ((0, 7), (0.5, 0.5)), ((3, 7), (0.0, 0.0)), ((3,), (-1.0,))],
)
def test_bad_scales_and_factors_are_refused(scales, factors):
    with pytest.raises(CnnLensError, match="noise"):
        noise.multiscale_noise([[1, 2, 3]], scales, factors)
