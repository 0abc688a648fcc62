"""Target layers that compute, for each image, only the map or unit that image climbs.

When every image of a batch climbs one channel of one layer (an OIP search, a single-map
dream), the layer's other channels are wasted work, and the target layer is often the
costliest of the layers up to it. :class:`ChannelConv2D` and :class:`ChannelDense` take the
images' channel indices as a second input and compute one channel per image from the layer's
kernel column of that channel, gathered per image; :class:`ChannelNormalization` does the
same for a batch normalisation between a conv layer and its ReLU layer. Their output is the
one-channel pre-activation, (B, H, W, 1) or (B, 1), equal to the whole layer's at that
channel up to rounding. Measured on the study's CNN (2 CPU cores, bfloat16,
benchmarks/README.md): the OIP search of Conv2D_1 takes a third of the CPU time, Conv2D_2's
0.6, Conv2D_3's 0.8.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from cnnlens.optvis.frozen_weights import FrozenWeights
from cnnlens.optvis.layer_roles import is_conv, is_dense


def normalises_each_map(layer: keras.layers.Layer) -> bool:
    """Whether ``layer`` is a batch normalisation of the last axis, which
    :class:`ChannelNormalization` applies to one channel per image."""
    axis = layer.get_config().get("axis", -1)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    return isinstance(layer, keras.layers.BatchNormalization) and list(axes) in ([-1], [3])


def selects_channels(layer: keras.layers.Layer) -> bool:
    """Whether these layers can stand for ``layer``: a dense layer, or a channels-last,
    ungrouped conv layer with the same stride and dilation along both axes."""
    if is_dense(layer):
        return True
    if not is_conv(layer):
        return False
    config = layer.get_config()
    return (
        config.get("groups", 1) == 1
        and config.get("data_format", "channels_last") == "channels_last"
        and len(set(config["strides"])) == 1
        and len(set(config["dilation_rate"])) == 1
    )


class _ChannelLayer(FrozenWeights):
    """A conv or dense layer's trained weights, read one output channel per image."""

    def gathered(self, channel) -> tuple:
        """(kernel of each image's channel, moved to the front; its bias (B,) or 0)."""
        kernel = tf.cast(self.kernel, self.compute_dtype)
        rank = len(self.kernel_value.shape)
        columns = tf.gather(kernel, channel, axis=rank - 1)
        columns = tf.transpose(columns, [rank - 1, *range(rank - 1)])
        if self.bias_value is None:
            return columns, 0.0
        return columns, tf.gather(tf.cast(self.bias, self.compute_dtype), channel)


class ChannelConv2D(_ChannelLayer):
    """Conv layer ``layer`` without activation, one channel per image: inputs
    [(B, H, W, C) tensor, (B,) channel indices], output (B, H', W', 1).

    The images' channels side by side are one (1, H, W, B * C) image whose depthwise
    convolution with the gathered kernel columns gives every image's products; summing each
    image's C of them gives its channel. (Faster on CPUs, forward and backward, than a matrix
    product per image, and than a grouped convolution.)
    """

    def __init__(self, layer: keras.layers.Layer, **kwargs) -> None:
        weights = layer.get_weights()
        super().__init__(weights[0], weights[1] if layer.use_bias else None, **kwargs)
        config = layer.get_config()
        self.strides = tuple(config["strides"])
        self.dilation = tuple(config["dilation_rate"])
        self.padding = config["padding"].upper()

    def call(self, inputs):
        tensor, channel = inputs
        tensor = tf.cast(tensor, self.compute_dtype)
        columns, bias = self.gathered(channel)  # (B, kh, kw, C)
        height, width, depth = self.kernel_value.shape[:3]
        shape = tf.shape(tensor)
        batch = shape[0]
        side_by_side = tf.reshape(
            tf.transpose(tensor, [1, 2, 0, 3]), [1, shape[1], shape[2], batch * depth]
        )
        filters = tf.reshape(tf.transpose(columns, [1, 2, 0, 3]), [height, width, batch * depth, 1])
        products = tf.nn.depthwise_conv2d(
            side_by_side, filters, [1, *self.strides, 1], self.padding, dilations=self.dilation
        )
        rows, columns_out = tf.shape(products)[1], tf.shape(products)[2]
        value = tf.reduce_sum(tf.reshape(products, [rows, columns_out, batch, depth]), axis=-1)
        value = tf.transpose(value, [2, 0, 1])
        if self.bias_value is not None:
            value += bias[:, None, None]
        return value[..., None]


class ChannelDense(_ChannelLayer):
    """Dense layer ``layer`` without activation, one unit per image: inputs
    [(B, features) tensor, (B,) unit indices], output (B, 1)."""

    def __init__(self, layer: keras.layers.Layer, **kwargs) -> None:
        weights = layer.get_weights()
        super().__init__(weights[0], weights[1] if layer.use_bias else None, **kwargs)

    def call(self, inputs):
        tensor, channel = inputs
        columns, bias = self.gathered(channel)
        value = tf.reduce_sum(tf.cast(tensor, self.compute_dtype) * columns, axis=-1) + bias
        return value[:, None]


class ChannelNormalization(keras.layers.Layer):
    """Batch normalisation ``layer`` at inference, one channel per image: inputs
    [(B, ..., 1) tensor, (B,) channel indices], each image's values scaled and shifted by its
    channel's factors."""

    def __init__(self, layer: keras.layers.Layer, **kwargs) -> None:
        super().__init__(**kwargs)
        mean = np.asarray(layer.moving_mean, np.float32)
        variance = np.asarray(layer.moving_variance, np.float32)
        gamma = np.asarray(layer.gamma, np.float32) if layer.scale else np.ones_like(mean)
        beta = np.asarray(layer.beta, np.float32) if layer.center else np.zeros_like(mean)
        self.scale_value = gamma / np.sqrt(variance + layer.epsilon)
        self.offset_value = beta - mean * self.scale_value

    def call(self, inputs):
        tensor, channel = inputs
        tensor = tf.cast(tensor, self.compute_dtype)
        scale = tf.cast(tf.gather(self.scale_value, channel), self.compute_dtype)
        offset = tf.cast(tf.gather(self.offset_value, channel), self.compute_dtype)
        shape = [-1] + [1] * (len(tensor.shape) - 1)
        return tensor * tf.reshape(scale, shape) + tf.reshape(offset, shape)
