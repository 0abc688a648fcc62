"""The photographs the CNN dreams upon: naming them, reading them, making them grey.

A photo may be any image file Pillow reads (JPEG, PNG, TIFF, BMP, GIF, WebP, ...), in colour or
grey, with or without transparency. It becomes one float32 grey image, standardised (zero mean,
unit variance, like the CNN's inputs), its longer side capped at a configured size. An empty
photo list means matplotlib's sample photograph of Grace Hopper, which every matplotlib install
ships, so the default works offline.

No TensorFlow here: the Snakefile imports this module to name the photos.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cnnlens.data import standardise_images
from cnnlens.errors import CnnLensError

#: The CNN's input side: a photo must be at least this large to be seen at the CNN's scale.
MIN_SIDE = 28
DEFAULT_PHOTO = "grace_hopper.jpg"


def default_photo() -> Path:
    """Matplotlib's sample photograph (shipped with every install, no network needed)."""
    from matplotlib import cbook

    return Path(cbook.get_sample_data(DEFAULT_PHOTO, asfileobj=False))


def photo_name(path: str | os.PathLike) -> str:
    """A photo's name in output paths: its file stem, other characters than letters, digits,
    ``-`` and ``_`` made ``_``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", Path(path).stem) or "photo"


def photo_table(paths: list[str]) -> dict[str, str]:
    """Photo names to file paths (``~`` expanded); the default photo for an empty list.

    Two photos whose names coincide would overwrite each other's dreams, so that is an error.
    """
    files = [str(Path(path).expanduser()) for path in paths] or [str(default_photo())]
    table: dict[str, str] = {}
    for path in files:
        name = photo_name(path)
        if name in table:
            raise CnnLensError(
                f"the photos {table[name]} and {path} would both be called {name!r} in "
                "results/dreams/; rename one of them (dream.photos in config.yaml)"
            )
        table[name] = path
    return table


def photo_lookup(table: dict[str, str]) -> Callable[[Any], str]:
    """For Snakemake rules: a function of the wildcards giving the file of the photo that the
    wildcard ``photo`` names (``table`` from :func:`photo_table`)."""
    return lambda wildcards: table[wildcards.photo]


def read_grey(path: str | os.PathLike) -> np.ndarray:
    """The photo at ``path`` as a float32 (H, W) grey image in its file's value range.

    Colour becomes grey by luminance (ITU-R 601: 0.299 R + 0.587 G + 0.114 B); transparent
    parts are laid over white; a multi-frame file (GIF, TIFF) gives its first frame; the EXIF
    orientation is applied. Unreadable or non-image files raise a one-line CnnLensError.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            image.load()
            return np.asarray(_to_grey(image), dtype=np.float32)
    except UnidentifiedImageError:
        problem = "is not an image file Pillow can read (use JPEG, PNG, TIFF, BMP, ...)"
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        problem = f"cannot be read ({error})"
    raise CnnLensError(f"the photo {path} {problem}; fix or replace it in dream.photos")


def _to_grey(image):
    """A Pillow image of any mode as a mode ``F`` grey image."""
    from PIL import Image

    if image.mode in ("F", "I") or image.mode.startswith("I;16"):
        return image.convert("F")
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB").convert("F")


def require_size(grey: np.ndarray, path: str | os.PathLike) -> None:
    """Raise when the photo is too small for the CNN's 28x28 view or has no contrast."""
    height, width = grey.shape
    if min(height, width) < MIN_SIDE:
        raise CnnLensError(
            f"the photo {path} is {width}x{height} pixels, too small: both sides must be at "
            f"least {MIN_SIDE}; use a larger photo in dream.photos"
        )
    if not np.ptp(grey) > 0:
        raise CnnLensError(
            f"the photo {path} is a single flat grey value, nothing to dream on; "
            "use another photo in dream.photos"
        )


def cap_size(grey: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink ``grey`` (antialiased bicubic) so that its longer side is at most ``max_side``."""
    from PIL import Image

    height, width = grey.shape
    factor = max_side / max(height, width)
    if factor >= 1:
        return grey
    size = (max(MIN_SIDE, round(width * factor)), max(MIN_SIDE, round(height * factor)))
    shrunk = Image.fromarray(grey, mode="F").resize(size, Image.Resampling.BICUBIC)
    return np.asarray(shrunk, dtype=np.float32)


def load_photo(path: str | os.PathLike, max_side: int) -> np.ndarray:
    """The photo as the dreams use it: grey, longer side at most ``max_side``, standardised;
    float32 (H, W)."""
    grey = read_grey(path)
    require_size(grey, path)
    return standardise_images(cap_size(grey, max_side)[np.newaxis])[0]
