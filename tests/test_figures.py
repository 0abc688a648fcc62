"""Pages redrawn for many images (cnnlens.plotting.figures.Redrawn) look as if drawn afresh."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.transforms import Bbox
from PIL import Image

from cnnlens.plotting.figures import DPI, Redrawn, content_box, plt, save_open_figure
from cnnlens.plotting.layer_grids import grid_artists


def grid_page(values: np.ndarray, title: str):
    """A page like the activation grids: an image under white lines, tick labels, a colour
    bar and a title; returns the figure and its grid axis."""
    figure, axis = plt.subplots(figsize=(4, 3))
    image = axis.imshow(values, cmap="jet", vmin=0, vmax=1, interpolation="nearest")
    axis.vlines([3.5], -0.5, 7.5, colors="white")
    axis.hlines([3.5], -0.5, 7.5, colors="white")
    axis.set_xticks(range(8), [f"+{column}" for column in range(8)], fontsize=6)
    figure.colorbar(image, ax=axis)
    axis.set_title(title, fontsize=8)
    return figure, axis


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGBA"), dtype=np.int16)


def test_a_redrawn_page_equals_the_page_drawn_afresh(tmp_path: Path) -> None:
    first, second = np.random.default_rng(0).random((2, 8, 8))
    figure, axis = grid_page(first, "first image")
    page = Redrawn(figure, grid_artists(axis))
    page.save(tmp_path / "first.png")
    axis.images[0].set_data(second)
    axis.title.set_text("second image, a longer title")
    page.save(tmp_path / "redrawn.png")
    plt.close(figure)
    fresh, _ = grid_page(second, "second image, a longer title")
    save_open_figure(fresh, tmp_path / "fresh.png")
    plt.close(fresh)
    redrawn, drawn_afresh = pixels(tmp_path / "redrawn.png"), pixels(tmp_path / "fresh.png")
    assert redrawn.shape == drawn_afresh.shape == (3 * DPI, 4 * DPI, 4)
    assert np.array_equal(redrawn, drawn_afresh)
    assert not np.array_equal(redrawn, pixels(tmp_path / "first.png"))  # it did change


def test_a_cropped_page_keeps_the_margin_and_a_spilling_one_is_saved_whole(
    tmp_path: Path,
) -> None:
    figure, axis = grid_page(np.zeros((8, 8)), "a title")
    crop = content_box(figure)
    Redrawn(figure, grid_artists(axis), crop).save(tmp_path / "cropped.png")
    width, height = crop.width * DPI, crop.height * DPI
    assert pixels(tmp_path / "cropped.png").shape[:2] == (round(height), round(width))
    spilling = Bbox([[-1.0, 0.0], [4.0, 3.0]])  # content reaching an inch left of the figure
    Redrawn(figure, grid_artists(axis), spilling).save(tmp_path / "spilling.png")
    plt.close(figure)
    assert pixels(tmp_path / "spilling.png").shape[1] == 5 * DPI
