"""A valid, stride-1 convolution of the image itself with a fast input gradient: the first
conv layer of the pre-activation copy (:mod:`.preactivation`) when it sees the image."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


class ImageConv2D(keras.layers.Layer):
    """A valid, stride-1 convolution (no activation) of the image itself, with a faster
    gradient w.r.t. the image: TensorFlow's conv2d_backprop_input is slow for images of
    one or few channels, a matrix product followed by shifted sums is not."""

    def __init__(self, kernel: np.ndarray, bias: np.ndarray, **kwargs) -> None:
        super().__init__(**kwargs)
        self.kernel_value = np.asarray(kernel, np.float32)
        self.bias_value = np.asarray(bias, np.float32)

    def build(self, input_shape) -> None:
        self.kernel = self.add_weight(
            shape=self.kernel_value.shape, initializer="zeros", trainable=False, name="kernel"
        )
        self.bias = self.add_weight(
            shape=self.bias_value.shape, initializer="zeros", trainable=False, name="bias"
        )
        self.kernel.assign(self.kernel_value)
        self.bias.assign(self.bias_value)

    def call(self, images):
        kernel = tf.cast(self.kernel, self.compute_dtype)
        bias = tf.cast(self.bias, self.compute_dtype)
        return tf.nn.bias_add(_convolve_image(tf.cast(images, self.compute_dtype), kernel), bias)

    def compute_output_shape(self, input_shape):
        height, width = self.kernel_value.shape[:2]
        rows, columns = input_shape[1:3]
        return (
            input_shape[0],
            None if rows is None else rows - height + 1,
            None if columns is None else columns - width + 1,
            self.kernel_value.shape[-1],
        )


def _convolve_image(images, kernel):
    """``conv2d(images, kernel)`` (valid) whose input gradient spreads each output position's
    gradient over its window of input pixels by one matrix product and shifted sums."""

    @tf.custom_gradient
    def convolve(images):
        outputs = tf.nn.conv2d(images, kernel, 1, "VALID")

        def gradient(upstream):
            height, width, channels, filters = kernel.shape
            flat = tf.reshape(kernel, [height * width * channels, filters])
            windows = tf.einsum("bhwf,kf->bhwk", upstream, flat)
            shape = tf.shape(windows)
            windows = tf.reshape(windows, [shape[0], shape[1], shape[2], height, width, channels])
            total = 0.0
            for row in range(height):
                for column in range(width):
                    total += tf.pad(
                        windows[:, :, :, row, column, :],
                        [[0, 0], [row, height - 1 - row], [column, width - 1 - column], [0, 0]],
                    )
            return total

        return outputs, gradient

    return convolve(images)
