"""A layer of the pre-activation copy that holds a trained kernel and bias as constants."""

from __future__ import annotations

import keras
import numpy as np


class FrozenWeights(keras.layers.Layer):
    """The trained ``kernel`` and ``bias`` (or None) of a conv or dense layer, as
    non-trainable weights ``self.kernel`` and ``self.bias``; subclasses compute with them."""

    def __init__(self, kernel: np.ndarray, bias: np.ndarray | None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.kernel_value = np.asarray(kernel, np.float32)
        self.bias_value = None if bias is None else np.asarray(bias, np.float32)

    def build(self, input_shape) -> None:
        self.kernel = self.add_weight(
            shape=self.kernel_value.shape, initializer="zeros", trainable=False, name="kernel"
        )
        self.kernel.assign(self.kernel_value)
        if self.bias_value is not None:
            self.bias = self.add_weight(
                shape=self.bias_value.shape, initializer="zeros", trainable=False, name="bias"
            )
            self.bias.assign(self.bias_value)
