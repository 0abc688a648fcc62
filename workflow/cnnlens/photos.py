"""The photographs the CNN dreams upon: reading them, making them grey, capping their size.

A photo may be any image file Pillow reads (JPEG, PNG, TIFF, BMP, GIF, WebP, ...), in colour or
grey, with or without transparency. It becomes one float32 grey image, standardised (zero mean,
unit variance, like the CNN's inputs), its longer side capped at a configured size and its
shorter side no smaller than the CNN's view. No TensorFlow here.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnnlens.data import standardise_images
from cnnlens.errors import CnnLensError


def read_grey(path: str | os.PathLike) -> np.ndarray:
    """The photo at ``path`` as a float32 (H, W) grey image in its file's value range.

    Colour becomes grey by luminance (ITU-R 601: 0.299 R + 0.587 G + 0.114 B); transparent
    parts are laid over white; a multi-frame file (GIF, TIFF) gives its first frame; the EXIF
    orientation is applied. Unreadable or non-image files raise a one-line CnnLensError.
    """
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            image.load()
            return np.asarray(to_grey(image), dtype=np.float32)
    except UnidentifiedImageError:
        problem = "is not an image file Pillow can read (use JPEG, PNG, TIFF, BMP, ...)"
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        problem = f"cannot be read ({error})"
    raise CnnLensError(f"the photo {path} {problem}; fix or replace it in dream.photos")


def to_grey(image: Image.Image) -> Image.Image:
    """A Pillow image of any mode as a mode ``F`` grey image."""
    if image.mode in ("F", "I") or image.mode.startswith("I;16"):
        return image.convert("F")
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB").convert("F")


def require_size(grey: np.ndarray, path: str | os.PathLike, min_side: int) -> None:
    """Raise when the photo is smaller than ``min_side`` (the CNN's view) or has no contrast."""
    height, width = grey.shape
    if min(height, width) < min_side:
        raise CnnLensError(
            f"the photo {path} is {width}x{height} pixels, too small: both sides must be at "
            f"least {min_side}; use a larger photo in dream.photos"
        )
    if not np.ptp(grey) > 0:
        raise CnnLensError(
            f"the photo {path} is a single flat grey value, nothing to dream on; "
            "use another photo in dream.photos"
        )


def cap_size(grey: np.ndarray, max_side: int, min_side: int) -> np.ndarray:
    """Shrink ``grey`` (antialiased bicubic) so that its longer side is at most ``max_side``,
    neither side below ``min_side``."""
    height, width = grey.shape
    factor = max_side / max(height, width)
    if factor >= 1:
        return grey
    size = (max(min_side, round(width * factor)), max(min_side, round(height * factor)))
    shrunk = Image.fromarray(grey, mode="F").resize(size, Image.Resampling.BICUBIC)
    return np.asarray(shrunk, dtype=np.float32)


def load_photo(path: str | os.PathLike, max_side: int, min_side: int) -> np.ndarray:
    """The photo as the dreams use it: grey, longer side at most ``max_side``, no side below
    ``min_side`` (the CNN's view), standardised; float32 (H, W)."""
    grey = read_grey(path)
    require_size(grey, path, min_side)
    return standardise_images(cap_size(grey, max_side, min_side)[np.newaxis])[0]
