"""The model's class scores and their gradients, in compiled TensorFlow functions.

A class's score is its logit: the last dense layer's pre-activation, before the softmax (for
a model ending in a linear layer, its output). Probabilities are the softmax of the logits,
the same for both kinds of model. Every function takes a batch of images (N, H, W, C) and
one class per image, so many images, classes, noise samples and path steps go through the
network in one call.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from cnnlens.errors import CnnLensError

# Images per compiled call are chosen so that one call holds about this many input values.
VALUES_PER_CALL = 1_500_000


class ClassScores:
    """The logits of ``model`` and the maps of its conv layer ``layer``, differentiable."""

    def __init__(self, model: keras.Model, layer: str) -> None:
        output = model.layers[-1]
        if not isinstance(output, keras.layers.Dense):
            raise CnnLensError(
                f"attribution needs a model ending in a dense layer; {output.name} is a "
                f"{type(output).__name__}"
            )
        self.layer = layer
        self.input_shape = tuple(int(side) for side in model.input_shape[1:])
        # two halves, so that the gradient can be taken at the maps as well as at the input
        self.body = keras.Model(model.inputs[0], model.get_layer(layer).output, name="to_maps")
        self.head = head_after(model, layer)
        self.kernel = output.kernel
        self.bias = output.bias if output.use_bias else None
        images = tf.TensorSpec((None, *self.input_shape), tf.float32)
        classes = tf.TensorSpec((None,), tf.int32)
        self.logits = tf.function(self._logits, input_signature=[images])
        self.input_gradients = tf.function(self.gradients, input_signature=[images, classes])
        self.map_gradients = tf.function(self._map_gradients, input_signature=[images, classes])

    def images_per_call(self, expansion: int = 1) -> int:
        """How many images to pass per call when each becomes ``expansion`` network inputs."""
        values = int(np.prod(self.input_shape)) * max(expansion, 1)
        return max(1, VALUES_PER_CALL // values)

    def _forward(self, images):
        maps = self.body(images, training=False)
        return maps, self._logits_from_maps(maps)

    def _logits_from_maps(self, maps):
        features = self.head(maps, training=False)
        logits = tf.matmul(tf.cast(features, tf.float32), tf.cast(self.kernel, tf.float32))
        if self.bias is not None:
            logits = logits + tf.cast(self.bias, tf.float32)
        return logits

    def _logits(self, images):
        return self._forward(images)[1]

    def gradients(self, images, classes):
        """d logit[class] / d image for every image, and the logits (uncompiled: for use
        inside other compiled functions; ``input_gradients`` is the compiled one)."""
        with tf.GradientTape() as tape:
            tape.watch(images)
            _, logits = self._forward(images)
            score = tf.gather(logits, classes, batch_dims=1)
        return tape.gradient(score, images), logits

    def _map_gradients(self, images, classes):
        """The conv layer's maps (N, h, w, K) and d logit[class] / d maps."""
        maps = self.body(images, training=False)
        with tf.GradientTape() as tape:
            tape.watch(maps)
            logits = self._logits_from_maps(maps)
            score = tf.gather(logits, classes, batch_dims=1)
        return maps, tape.gradient(score, maps)


def head_after(model: keras.Model, layer: str) -> keras.Model:
    """The layers after ``layer`` up to the last one's input, as a model of ``layer``'s
    output (the layers applied in order: the network is a chain, as CNNs here are)."""
    names = [item.name for item in model.layers]
    start = model.get_layer(layer)
    values = inputs = keras.Input(start.output.shape[1:], name="maps")
    for item in model.layers[names.index(layer) + 1 : -1]:
        values = item(values)
    return keras.Model(inputs, values, name="from_maps")


def logits_of(scores: ClassScores, images: np.ndarray) -> np.ndarray:
    """The logits (N, classes) of ``images``, in calls of bounded size."""
    step = scores.images_per_call()
    parts = [
        np.asarray(scores.logits(tf.constant(images[start : start + step])))
        for start in range(0, len(images), step)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def class_probabilities(scores: ClassScores, images: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Each image's probability (softmax of the logits) of its class."""
    probabilities = probabilities_of(scores, images)
    return probabilities[np.arange(len(images)), np.asarray(classes)]


def probabilities_of(scores: ClassScores, images: np.ndarray) -> np.ndarray:
    """The class probabilities (N, classes): the softmax of the logits, in float64."""
    return tf.nn.softmax(logits_of(scores, images).astype(np.float64), axis=-1).numpy()
