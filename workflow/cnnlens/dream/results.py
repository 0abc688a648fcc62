"""What the three kinds of dream return: the rendered images and the measured objectives.

Plain data (numpy only), so that the records and the figures need no TensorFlow. Images are
grey (H, W) or, for a colour model, (H, W, C); "(H, W[, C])" below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SingleMapDreams:
    """The single-map dreams of one photo, one entry per map (first axis)."""

    maps: tuple[int, ...]
    small: np.ndarray  # (M, h, w[, C]) the results at the CNN's view (its input range)
    blurred: np.ndarray  # (M, H, W[, C]) those results enlarged to full size
    final: np.ndarray  # (M, H, W[, C]) enlarged, detail put back, range adjusted (0..1)
    objective_before: np.ndarray  # (M,) of the shrunk photo
    objective_rounds: np.ndarray  # (M, rounds) after the ascent of each round, at the view
    objective_after: np.ndarray  # (M,) of the final image as the CNN sees it (shrunk)
    correlation: np.ndarray  # (M,) of the final image with the photo


@dataclass
class OctaveDream:
    """A layer dream of one photo."""

    octaves: list[np.ndarray]  # the dream after each octave's ascent, smallest first
    final: np.ndarray  # (H, W[, C]) value range adjusted (0..1)
    objective_before: float  # of the photo at full size
    objective_octaves: list[list[float]]  # per octave, the objective before and after its ascent
    objective_after: float  # of the final image at full size
    correlation: float


@dataclass
class FineDreams:
    """Full-size dreams of one photo, one per render (the layer mix and single maps)."""

    names: list[str]
    final: np.ndarray  # (K, H, W[, C]) value range adjusted (0..1)
    objective_before: np.ndarray  # (K,)
    objective_after: np.ndarray  # (K,)
    history: np.ndarray  # (K, steps + 1)
    correlation: np.ndarray  # (K,)
