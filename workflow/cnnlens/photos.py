"""The photographs the CNN dreams upon: reading them, grey or in colour, capping their size,
and putting them into the model's input range.

A photo may be any image file Pillow reads (JPEG, PNG, TIFF, BMP, GIF, WebP, ...), in colour or
grey, with or without transparency. It becomes one float32 image with the model's channels:
grey (H, W) for a grey model, colour (H, W, 3) for a colour one; its longer side capped at a
configured size and its shorter side no smaller than the model's input; its 0..255 values put
into the model's input range by :meth:`cnnlens.preprocessing.Preprocessing.from_photo`
(standardised like the CNN's inputs by default). No TensorFlow here.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnnlens.errors import CnnLensError
from cnnlens.preprocessing import Preprocessing

#: 16-bit grey photos are brought to 0..255 by this divisor (65535 / 255).
SIXTEEN_BIT_DIVISOR = 257.0
COLOUR_CHANNELS = 3


def read_image(path: str | os.PathLike, channels: int = 1) -> np.ndarray:
    """The photo at ``path`` as float32 0..255 values: (H, W) grey for ``channels`` 1, (H, W, 3)
    RGB for 3.

    Colour becomes grey by luminance (ITU-R 601: 0.299 R + 0.587 G + 0.114 B); a grey photo
    for a colour model has three equal channels; transparent parts are laid over white; a
    multi-frame file (GIF, TIFF) gives its first frame; the EXIF orientation is applied.
    Unreadable or non-image files raise a one-line CnnLensError.
    """
    if channels not in (1, COLOUR_CHANNELS):
        raise CnnLensError(
            f"the model takes {channels}-channel images; dreams need 1 (grey) or 3 (colour)"
        )
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            image.load()
            return to_array(image, channels)
    except UnidentifiedImageError:
        problem = "is not an image file Pillow can read (use JPEG, PNG, TIFF, BMP, ...)"
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        problem = f"cannot be read ({error})"
    raise CnnLensError(f"the photo {path} {problem}; fix or replace it in dream.photos")


def read_grey(path: str | os.PathLike) -> np.ndarray:
    """The photo at ``path`` as a float32 (H, W) grey image of 0..255 values."""
    return read_image(path, 1)


def to_array(image: Image.Image, channels: int) -> np.ndarray:
    """A Pillow image of any mode as float32 0..255 values, grey (H, W) or RGB (H, W, 3)."""
    if image.mode in ("F", "I") or image.mode.startswith("I;16"):
        grey = np.asarray(image.convert("F"), dtype=np.float32)
        if image.mode != "F":
            grey = grey / np.float32(SIXTEEN_BIT_DIVISOR)
        return grey if channels == 1 else np.repeat(grey[..., np.newaxis], channels, axis=-1)
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(white, rgba).convert("RGB")
    if channels == 1:
        return np.asarray(rgb.convert("F"), dtype=np.float32)
    return np.asarray(rgb, dtype=np.float32)


def to_grey(image: Image.Image) -> Image.Image:
    """A Pillow image of any mode as a mode ``F`` grey image (0..255 values)."""
    return Image.fromarray(to_array(image, 1), mode="F")


def require_size(photo: np.ndarray, path: str | os.PathLike, min_side: int) -> None:
    """Raise when the photo is smaller than ``min_side`` (the model's input) or has no
    contrast."""
    height, width = photo.shape[:2]
    if min(height, width) < min_side:
        raise CnnLensError(
            f"the photo {path} is {width}x{height} pixels, too small: both sides must be at "
            f"least {min_side} (the model's input); use a larger photo in dream.photos"
        )
    if not np.ptp(photo) > 0:
        raise CnnLensError(
            f"the photo {path} is a single flat grey value, nothing to dream on; "
            "use another photo in dream.photos"
        )


def cap_size(photo: np.ndarray, max_side: int, min_side: int) -> np.ndarray:
    """Shrink ``photo`` (H, W) or (H, W, C) (antialiased bicubic, each channel) so that its
    longer side is at most ``max_side``, neither side below ``min_side``."""
    height, width = photo.shape[:2]
    factor = max_side / max(height, width)
    if factor >= 1:
        return photo
    size = (max(min_side, round(width * factor)), max(min_side, round(height * factor)))
    if photo.ndim == 3:
        planes = [cap_size(photo[..., k], max_side, min_side) for k in range(photo.shape[2])]
        return np.stack(planes, axis=-1)
    shrunk = Image.fromarray(photo, mode="F").resize(size, Image.Resampling.BICUBIC)
    return np.asarray(shrunk, dtype=np.float32)


def load_photo(
    path: str | os.PathLike,
    max_side: int,
    min_side: int,
    channels: int = 1,
    preprocessing: Preprocessing | None = None,
) -> np.ndarray:
    """The photo as the dreams use it: grey (H, W) or colour (H, W, 3) as ``channels`` says,
    longer side at most ``max_side``, no side below ``min_side`` (the model's input), in the
    model's input range (``preprocessing``; None: standardised; a bounded range also clips
    what the resize overshoots); float32."""
    photo = read_image(path, channels)
    require_size(photo, path, min_side)
    preparation = Preprocessing("standardise") if preprocessing is None else preprocessing
    prepared = preparation.from_photo(cap_size(photo, max_side, min_side))
    return preparation.project(prepared) if preparation.bounded else prepared
