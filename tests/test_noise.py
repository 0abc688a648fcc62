"""Multi-scale start images: the resize, the mixing of scales, per-image seeding, and staged
noise."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnlens import noise
from cnnlens.data import standardise_images
from cnnlens.errors import CnnLensError
from cnnlens.preprocessing import Preprocessing

SCALES, FACTORS, SIZE = (3, 7, 14, 28), (0.5, 0.5, 0.5, 0.5), (28, 28)


def restart_keys(seed: int, layer: str, maps, restarts: int) -> list[list[int]]:
    """Keys of every (map, restart), map-major."""
    return [
        noise.image_key(seed, layer, int(k), restart) for k in maps for restart in range(restarts)
    ]


@pytest.mark.parametrize("cells", [2, 3, 7, 14, 28, 40])
def test_resize_matrix_is_pillows_bicubic_resize(cells):
    grid = np.random.default_rng(cells).uniform(-1, 1, (cells, cells)).astype(np.float32)
    expected = np.asarray(Image.fromarray(grid).resize((28, 28), Image.Resampling.BICUBIC))
    resize = noise.resize_matrix(cells, 28)
    np.testing.assert_allclose(resize @ grid @ resize.T, expected, atol=1e-5)


def test_start_images_are_standardised_float32():
    keys = restart_keys(1, "Conv2D_3", range(5), 3)
    images = noise.multiscale_noise(keys, SCALES, FACTORS, SIZE)
    assert images.shape == (15, 28, 28, 1) and images.dtype == np.float32
    np.testing.assert_allclose(images.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(images.std(axis=(1, 2, 3)), 1, atol=1e-4)


def test_an_image_depends_only_on_its_own_key():
    keys = restart_keys(7, "Conv2D_2", [3, 4, 5], 2)
    together = noise.multiscale_noise(keys, SCALES, FACTORS, SIZE)
    alone = noise.multiscale_noise(keys[3:4], SCALES, FACTORS, SIZE)
    reordered = noise.multiscale_noise(keys[::-1], SCALES, FACTORS, SIZE)
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
    images = noise.multiscale_noise([base, *variants], SCALES, FACTORS, SIZE)
    for image in images[1:]:
        assert not np.allclose(image, images[0])


def test_a_zero_factor_removes_its_scale_and_keeps_the_others():
    keys = restart_keys(3, "Conv2D_1", [0, 1], 2)
    with_zero = noise.multiscale_noise(keys, scales=(3, 28), factors=(1.0, 0.0), size=SIZE)
    only_long = noise.multiscale_noise(keys, scales=(3,), factors=(1.0,), size=SIZE)
    np.testing.assert_allclose(with_zero, only_long, atol=1e-6)


def neighbour_correlation(images: np.ndarray) -> float:
    left, right = images[:, :, :-1].ravel(), images[:, :, 1:].ravel()
    return float(np.corrcoef(left, right)[0, 1])


def test_long_range_scales_are_smooth_and_short_range_ones_are_not():
    keys = restart_keys(5, "Conv2D_3", range(20), 1)
    smooth = noise.multiscale_noise(keys, scales=(3,), factors=(1.0,), size=SIZE)
    rough = noise.multiscale_noise(keys, scales=(28,), factors=(1.0,), size=SIZE)
    assert neighbour_correlation(smooth) > 0.9
    assert abs(neighbour_correlation(rough)) < 0.1


@pytest.mark.parametrize(
    "scales, factors",
    [((3, 7), (0.5,)), ((), ()), ((0, 7), (0.5, 0.5)), ((3, 7), (0.0, 0.0)), ((3,), (-1.0,))],
)
def test_bad_scales_and_factors_are_refused(scales, factors):
    with pytest.raises(CnnLensError, match="noise"):
        noise.multiscale_noise([[1, 2, 3]], scales, factors, SIZE)


def test_rectangular_images_are_pillows_resize_of_each_grid():
    keys = restart_keys(2, "Conv2D_1", [0, 1], 1)
    components = noise.scale_components(keys, (3, 7), (20, 36))[..., 0]
    assert components.shape == (2, 2, 20, 36)
    for index, grids in enumerate(noise.draw_grids(keys, (3, 7), (20, 36))):
        for grid, component in zip(grids[..., 0], components[index]):
            expected = np.asarray(Image.fromarray(grid).resize((36, 20), Image.Resampling.BICUBIC))
            np.testing.assert_allclose(component, expected, atol=1e-5)
    assert noise.multiscale_noise(keys, (3, 7), (1.0, 0.5), (20, 36)).shape == (2, 20, 36, 1)


def test_staged_noise_starts_long_range_and_adds_each_finer_scale_at_its_step():
    keys = restart_keys(4, "Conv2D_2", range(3), 2)
    components = noise.scale_components(keys, (14, 3, 7), SIZE)
    staged = noise.StagedNoise(components, (14, 3, 7), (0.5, 1.0, 0.25), (10, 20))
    start = staged.start_images()
    np.testing.assert_array_equal(start, noise.combine(components, (0.0, 1.0, 0.0)))
    assert staged.last_change == 20
    rows = np.array([1, 4])
    assert staged(9, start[rows], rows) is None
    added = staged(10, start[rows], rows)  # scale 7 (second longest range) comes first
    expected = standardise_images(start[rows] + 0.25 * components[2][rows])
    np.testing.assert_array_equal(added, expected)
    finest = staged(20, added, rows)
    expected = standardise_images(added + 0.5 * components[0][rows])
    np.testing.assert_array_equal(finest, expected)


def test_colour_noise_is_drawn_per_channel_and_standardised_over_all_of_them():
    keys = restart_keys(3, "conv_a", range(4), 2)
    grey = noise.multiscale_noise(keys, SCALES, FACTORS, (16, 20))
    colour = noise.multiscale_noise(keys, SCALES, FACTORS, (16, 20), channels=3)
    assert colour.shape == (8, 16, 20, 3) and colour.dtype == np.float32
    np.testing.assert_allclose(colour.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(colour.std(axis=(1, 2, 3)), 1, atol=1e-4)
    channels = colour.reshape(8, -1, 3)
    correlation = np.corrcoef(channels[0].T)
    assert np.abs(correlation[np.triu_indices(3, 1)]).max() < 0.5  # independent channels
    assert not np.allclose(colour[..., 0], standardise_images(grey[..., 0]))


def test_scales_larger_than_a_side_are_clipped_to_it():
    keys = restart_keys(3, "conv_a", range(2), 1)
    grids = noise.draw_grids(keys, (3, 28), (16, 12), channels=3)
    assert grids[0].shape == (2, 3, 3, 3) and grids[1].shape == (2, 16, 12, 3)
    images = noise.multiscale_noise(keys, (3, 28), (0.5, 0.5), (16, 12), channels=3)
    assert images.shape == (2, 16, 12, 3) and np.isfinite(images).all()


@pytest.mark.parametrize(
    "preprocessing",
    [Preprocessing("unit", 0.0, 255.0, 0.0, 1.0), Preprocessing("none", low=0.0, high=255.0)],
)
def test_bounded_ranges_get_mid_range_noise_inside_them(preprocessing):
    keys = restart_keys(5, "conv_a", range(6), 1)
    standardised = noise.multiscale_noise(keys, SCALES, FACTORS, (28, 28), channels=3)
    images = noise.to_input_range(standardised, preprocessing)
    low, high = preprocessing.low, preprocessing.high
    assert images.min() >= low and images.max() <= high
    assert abs(images.mean() - (low + high) / 2) < 0.05 * (high - low)
    assert images.std() > 0.1 * (high - low)
    assert noise.range_unit(preprocessing) == pytest.approx((high - low) / 6)
    assert noise.to_input_range(standardised, Preprocessing("standardise")) is standardised


def test_staged_noise_in_a_bounded_range_is_added_and_clipped():
    unit = Preprocessing("unit", 0.0, 255.0, 0.0, 1.0)
    keys = restart_keys(4, "conv_a", range(3), 1)
    components = noise.scale_components(keys, (3, 7), (12, 12), channels=3)
    staged = noise.StagedNoise(components, (3, 7), (1.0, 2.0), (5,), unit)
    start = staged.start_images()
    assert start.shape == (3, 12, 12, 3) and 0 <= start.min() and start.max() <= 1
    rows = np.arange(3)
    added = staged(5, start, rows)
    expected = np.clip(start + 2.0 / 6 * components[1], 0, 1)
    np.testing.assert_allclose(added, expected, atol=1e-6)
