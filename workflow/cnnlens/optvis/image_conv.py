"""A valid, stride-1 convolution of the image itself with a fast input gradient: the first
conv layer of the pre-activation copy (:mod:`.preactivation`) when it sees the image."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from cnnlens.optvis.frozen_weights import FrozenWeights


class ImageConv2D(FrozenWeights):
    """A valid, stride-1 convolution (no activation) of the image itself, with a faster
    gradient w.r.t. the image: TensorFlow's conv2d_backprop_input is slow for images of
    one or few channels, a matrix product followed by shifted sums is not. (In bfloat16
    TensorFlow's own is faster still, but rounds differently: the OIPs would change.)

    ``crop``: (rows, columns) at the bottom and right of the image that the convolution
    leaves out (no target sees them); their gradient is zero, written as padding of the
    input gradient (cheaper than a cropping layer's gradient).
    """

    def __init__(
        self, kernel: np.ndarray, bias: np.ndarray, crop: Sequence[int] = (0, 0), **kwargs
    ) -> None:
        super().__init__(kernel, bias, **kwargs)
        self.crop = (int(crop[0]), int(crop[1]))

    def call(self, images):
        kernel = tf.cast(self.kernel, self.compute_dtype)
        bias = tf.cast(self.bias, self.compute_dtype)
        images = tf.cast(images, self.compute_dtype)
        return tf.nn.bias_add(_convolve_image(images, kernel, self.crop), bias)

    def compute_output_shape(self, input_shape):
        height, width = self.kernel_value.shape[:2]
        rows, columns = input_shape[1:3]
        return (
            input_shape[0],
            None if rows is None else rows - self.crop[0] - height + 1,
            None if columns is None else columns - self.crop[1] - width + 1,
            self.kernel_value.shape[-1],
        )


def _convolve_image(images, kernel, crop: tuple[int, int] = (0, 0)):
    """``conv2d(images, kernel)`` (valid) of the images without their last ``crop`` rows and
    columns, whose input gradient spreads each output position's gradient over its window of
    input pixels by one matrix product and shifted sums."""

    @tf.custom_gradient
    def convolve(images):
        kept = images
        if any(crop):
            shape = tf.shape(images)
            kept = images[:, : shape[1] - crop[0], : shape[2] - crop[1]]
        outputs = tf.nn.conv2d(kept, kernel, 1, "VALID")

        def gradient(upstream):
            return _spread_windows(upstream, kernel, crop)

        return outputs, gradient

    return convolve(images)


def _spread_windows(upstream, kernel, crop: tuple[int, int]):
    """The gradient w.r.t. the (uncropped) image of a valid convolution with ``kernel`` whose
    output's gradient is ``upstream``: each window offset's share, one (channels, batch,
    rows, columns) plane per offset from one matrix product, padded into place and summed."""
    height, width, channels, filters = kernel.shape
    flat = tf.reshape(kernel, [height * width * channels, filters])
    shape = tf.shape(upstream)
    # (positions, offsets), then transposed to a plane per offset: the product the other
    # way round rounds differently in float32
    windows = tf.matmul(tf.reshape(upstream, [-1, filters]), flat, transpose_b=True)
    planes = tf.reshape(
        tf.transpose(windows), [height, width, channels, shape[0], shape[1], shape[2]]
    )
    total = 0.0
    for row in range(height):
        for column in range(width):
            total += tf.pad(
                planes[row, column],
                [
                    [0, 0],
                    [0, 0],
                    [row, height - 1 - row + crop[0]],
                    [column, width - 1 - column + crop[1]],
                ],
            )
    if channels == 1:
        return tf.expand_dims(total[0], -1)
    return tf.transpose(total, [1, 2, 3, 0])
