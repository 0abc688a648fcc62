"""Parameterisations: what the ascent changes, and how one step changes it.

A parameterisation holds the batch's *state* (a tensor), makes images of it for the network
(inside the compiled step, so the gradient reaches the state), and moves the state along the
gradient. The engine takes one as ``param=``; :class:`Pixels` is the default;
:class:`cnnlens.optvis.param_fourier.Fourier` describes images by their scaled spectrum.
Both keep the images in the model's input range the same way (:meth:`Pixels.into_range`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import tensorflow as tf

from cnnlens.noise import range_unit
from cnnlens.preprocessing import Preprocessing, into_input_range

RMS_FLOOR = 1e-7
STD_FLOOR = 1e-6


class Param(Protocol):
    """What the engine and the loop need of a parameterisation."""

    def start(self, images: np.ndarray) -> tf.Tensor: ...

    def images(self, state: tf.Tensor) -> np.ndarray: ...

    def image(self, state: tf.Tensor) -> tf.Tensor: ...

    def update(self, state: tf.Tensor, gradient: tf.Tensor, epsilon: tf.Tensor) -> tf.Tensor: ...

    @property
    def centre(self) -> float: ...

    @property
    def unit(self) -> float: ...

    def project(self, images: np.ndarray) -> np.ndarray: ...


class Pixels:
    """The images' pixels themselves, kept in the model's input range.

    A step adds the gradient divided by its root mean square (per image, + 1e-7) times
    epsilon, then brings each image back into the input range of ``preprocessing``: for
    per-image standardisation (the default, also for None) it standardises each image again
    (zero mean, unit variance over its pixels and channels); for a bounded range [low, high]
    (``unit``, ``none``) epsilon counts in sixths of the span
    (:func:`cnnlens.noise.range_unit`) and the image is clipped to the range.
    """

    def __init__(self, preprocessing: Preprocessing | None = None) -> None:
        self.preprocessing = preprocessing
        self.bounds = (
            (float(preprocessing.low), float(preprocessing.high))
            if preprocessing is not None and preprocessing.bounded
            else None
        )
        self.unit = range_unit(preprocessing)
        self.centre = 0.0 if self.bounds is None else sum(self.bounds) / 2

    def start(self, images: np.ndarray) -> tf.Tensor:
        """The state of (B, H, W, C) images."""
        return tf.convert_to_tensor(np.asarray(images, np.float32))

    def images(self, state: tf.Tensor) -> np.ndarray:
        """The (B, H, W, C) float32 images of a state."""
        return state.numpy()

    def image(self, state: tf.Tensor) -> tf.Tensor:
        """Graph side: the images the network sees."""
        return state

    def update(self, state: tf.Tensor, gradient: tf.Tensor, epsilon: tf.Tensor) -> tf.Tensor:
        """Graph side: the state after one step along ``gradient`` (d objective / d state)."""
        rms = tf.sqrt(tf.reduce_mean(tf.square(gradient), axis=[1, 2, 3], keepdims=True))
        if self.bounds is None:
            return standardise(state + epsilon * gradient / (rms + RMS_FLOOR))
        moved = state + (self.unit * epsilon) * gradient / (rms + RMS_FLOOR)
        return tf.clip_by_value(moved, *self.bounds)

    def into_range(self, images: tf.Tensor) -> tf.Tensor:
        """Graph side: images brought into the input range (re-standardised, or clipped)."""
        if self.bounds is None:
            return standardise(images)
        return tf.clip_by_value(images, *self.bounds)

    def project(self, images: np.ndarray) -> np.ndarray:
        """NumPy side: (B, H, W, C) images brought into the input range."""
        return into_input_range(images, self.preprocessing)


def standardise(images: tf.Tensor) -> tf.Tensor:
    """Each image (first axis) to zero mean and unit variance over its pixels and channels."""
    mean, variance = tf.nn.moments(images, axes=[1, 2, 3], keepdims=True)
    return (images - mean) / tf.maximum(tf.sqrt(variance), STD_FLOOR)
