"""The atlas's pictures, written with Pillow: thumbnails (grey or through a colour map for grey
models, in colour for colour models), contrast-enhanced views, strips of several images, crops
and animated GIFs.

Model inputs (test images, OIPs) are shown over the model's input range: (-3, 3) for
standardised images, [low, high] for a bounded preprocessing (:func:`display_range`).

Images are stored at their own size, or enlarged by a whole factor with nearest-neighbour
sampling (each pixel stays a square); the pages enlarge them further without blurring (CSS
``image-rendering: pixelated``), so storing them small loses nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from PIL import Image

from cnnlens.files import atomic_path
from cnnlens.tiles import equalise

#: Standardised images (test images, OIPs) shown over this range, as in the OIP figures.
DISPLAY_RANGE = (-3.0, 3.0)
#: Colours of a colour GIF's shared palette.
GIF_COLOURS = 256
#: The palette index of white (see :func:`lookup_table`).
WHITE = 255
#: Colour levels of the animated GIFs.
GIF_LEVELS = 64


def lookup_table(name: str) -> np.ndarray:
    """(256, 3) uint8 palette: 255 levels of the Matplotlib colour map ``name`` (indices
    0..254), and white (index :data:`WHITE`, the gaps between pictures). The workflow checks
    colour map names before any job starts."""
    import matplotlib  # the colour maps only, not pyplot

    levels = matplotlib.colormaps[name](np.linspace(0, 1, WHITE))[:, :3]
    return (np.vstack([levels, np.ones((1, 3))]) * 255).round().astype(np.uint8)


def scaled(image: np.ndarray, low: float, high: float, top: int = 255) -> np.ndarray:
    """``image`` mapped linearly from [low, high] to 0..``top`` (clipped), uint8."""
    span = high - low if high > low else 1.0
    unit = np.clip((np.asarray(image, np.float64) - low) / span, 0, 1)
    return (unit * top).round().astype(np.uint8)


def levels(image: np.ndarray, low: float, high: float) -> np.ndarray:
    """(H, W) uint8 palette indices 0..254 of ``image`` over [low, high]."""
    return scaled(image, low, high, WHITE - 1)


def coloured(image: np.ndarray, table: np.ndarray, low: float, high: float) -> np.ndarray:
    """(H, W, 3) uint8: ``image`` through the palette ``table`` over [low, high]."""
    return table[levels(image, low, high)]


def grey(image: np.ndarray, low: float = DISPLAY_RANGE[0], high: float = DISPLAY_RANGE[1]):
    """(H, W) uint8: ``image`` in grey over [low, high]."""
    return scaled(image, low, high)


def enhanced(image: np.ndarray) -> np.ndarray:
    """(H, W) uint8: the histogram-equalised (contrast-enhanced) view; (H, W, 3) images each
    channel equalised on its own."""
    values = np.asarray(image)
    if values.ndim == 3:
        return np.stack([enhanced(values[..., channel]) for channel in range(values.shape[-1])],
                        axis=-1)
    return (equalise(values) * 255).round().astype(np.uint8)


def display_range(preprocessing) -> tuple[float, float]:
    """The range model inputs are shown over: [low, high] of a bounded
    :class:`cnnlens.preprocessing.Preprocessing`, else :data:`DISPLAY_RANGE`."""
    if preprocessing.bounded:
        return float(preprocessing.low), float(preprocessing.high)
    return DISPLAY_RANGE


def is_colour(image: np.ndarray) -> bool:
    """True for an (H, W, 3) image (of a colour model), False for an (H, W) grey one."""
    return np.ndim(image) == 3


def enlarged(pixels: np.ndarray, scale: int = 1) -> np.ndarray:
    """``pixels`` (H, W) or (H, W, 3) with every pixel repeated ``scale`` times each way."""
    return np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)


def picture(pixels: np.ndarray, scale: int = 1, palette: np.ndarray | None = None):
    """A Pillow image of ``pixels`` (uint8; palette indices when a ``palette`` is given)
    enlarged ``scale`` times."""
    image = Image.fromarray(np.ascontiguousarray(enlarged(pixels, scale)))
    if palette is not None:
        image = image.convert("P")  # "L" to "P" keeps the values as indices
        image.putpalette(palette.reshape(-1).tolist())
    return image


def save_png(
    pixels: np.ndarray, path: str | os.PathLike, scale: int = 1, palette: np.ndarray | None = None
) -> None:
    """Write ``pixels`` (uint8; palette indices with a ``palette``) as an optimised PNG,
    enlarged ``scale`` times."""
    image = picture(pixels, scale, palette)
    with atomic_path(path) as temporary:
        image.save(temporary, format="PNG", optimize=True)


def strip(images: Sequence[np.ndarray], gap: int = 1, fill: int = 255) -> np.ndarray:
    """Images of equal shape side by side, ``gap`` pixels of ``fill`` between them."""
    first = np.asarray(images[0])
    spacer = np.full((first.shape[0], gap, *first.shape[2:]), fill, first.dtype)
    parts = []
    for index, image in enumerate(images):
        if index:
            parts.append(spacer)
        parts.append(np.asarray(image))
    return np.concatenate(parts, axis=1)


def grid(images: np.ndarray, gap: int = 1, fill: int = 255) -> np.ndarray:
    """Images (rows, columns, H, W[, 3]) as one picture, ``gap`` pixels between them."""
    rows = [strip(list(row), gap, fill) for row in images]
    return np.swapaxes(strip([np.swapaxes(row, 0, 1) for row in rows], gap, fill), 0, 1)


def save_gif(
    frames: Sequence[np.ndarray],
    path: str | os.PathLike,
    palette: np.ndarray | None,
    scale: int,
    duration: int,
) -> None:
    """An animated GIF of ``frames`` (palette indices with one ``palette``; or (H, W, 3) colour
    frames with ``palette`` None), enlarged ``scale`` times, each ``duration`` ms, looping, the
    last frame held three times as long. Palette frames keep :data:`GIF_LEVELS` of the
    palette's levels (a third of the file size of 255); colour frames share one palette of
    :data:`GIF_COLOURS` colours made from all of them."""
    if palette is None:
        pictures = colour_frames(frames, scale)
    else:
        step = WHITE // GIF_LEVELS + 1
        coarse = palette[np.minimum(np.arange(GIF_LEVELS) * step + step // 2, WHITE - 1)]
        pictures = [picture(np.asarray(frame) // step, scale, coarse) for frame in frames]
    durations = [duration] * (len(pictures) - 1) + [3 * duration]
    with atomic_path(path) as temporary:
        pictures[0].save(
            temporary,
            format="GIF",
            save_all=True,
            append_images=pictures[1:],
            duration=durations,
            loop=0,
            optimize=False,  # optimising would give each frame its own palette
        )


def colour_frames(frames: Sequence[np.ndarray], scale: int) -> list:
    """Colour frames (H, W, 3) uint8 as palette images sharing one palette, enlarged
    ``scale`` times (a shared palette keeps the colours steady from frame to frame)."""
    together = Image.fromarray(np.ascontiguousarray(np.concatenate(frames, axis=0)))
    shared = together.quantize(GIF_COLOURS, method=Image.Quantize.MEDIANCUT,
                               dither=Image.Dither.NONE)
    return [picture(np.asarray(frame), scale).quantize(palette=shared, dither=Image.Dither.NONE)
            for frame in frames]
