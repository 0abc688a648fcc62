"""Parameterisations: what the ascent changes, and how one step changes it.

A parameterisation holds the batch's *state* (a tensor), makes images of it for the network
(inside the compiled step, so the gradient reaches the state), and moves the state along the
gradient. The engine takes one as ``param=``; :class:`Pixels` is the default. Another way of
describing images (e.g. by their Fourier coefficients) is one more class here with the same
four methods.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import tensorflow as tf

RMS_FLOOR = 1e-7
STD_FLOOR = 1e-6


class Param(Protocol):
    """What the engine and the loop need of a parameterisation."""

    def start(self, images: np.ndarray) -> tf.Tensor: ...

    def images(self, state: tf.Tensor) -> np.ndarray: ...

    def image(self, state: tf.Tensor) -> tf.Tensor: ...

    def update(self, state: tf.Tensor, gradient: tf.Tensor, epsilon: tf.Tensor) -> tf.Tensor: ...


class Pixels:
    """The images' pixels themselves. A step adds the gradient divided by its root mean
    square (per image, + 1e-7) times epsilon, then standardises each image again (zero mean,
    unit variance over its pixels)."""

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
        return standardise(state + epsilon * gradient / (rms + RMS_FLOOR))


def standardise(images: tf.Tensor) -> tf.Tensor:
    """Each image (first axis) to zero mean and unit variance over its pixels."""
    mean, variance = tf.nn.moments(images, axes=[1, 2, 3], keepdims=True)
    return (images - mean) / tf.maximum(tf.sqrt(variance), STD_FLOOR)
