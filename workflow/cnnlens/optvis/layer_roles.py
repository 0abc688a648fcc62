"""The layers of a chain-shaped Keras model by the role they play in its pre-activation copy
(:mod:`.preactivation`): targets (conv, dense), pooling, layers copied as they are, layers that
are the identity at inference, and the separate ReLU layer that is a linear conv or dense
layer's activation."""

from __future__ import annotations

from collections.abc import Sequence

import keras


def chain_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers from input to output, without its input layer (a functional model
    lists one, a Sequential model does not)."""
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def activation_of(layer: keras.layers.Layer) -> str:
    """The name of a conv, dense or Activation layer's activation function."""
    return getattr(layer.activation, "__name__", str(layer.activation))


def is_conv(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, keras.layers.Conv2D)


def is_pool(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D))


def is_dense(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, keras.layers.Dense)


def is_passed_through(layer: keras.layers.Layer) -> bool:
    """Weightless layers copied as they are (dropout is the identity at inference)."""
    return isinstance(layer, (keras.layers.Flatten, keras.layers.Dropout))


#: Layers that are the identity at inference: left out of the copy.
IDENTITY_AT_INFERENCE_LAYERS = (
    keras.layers.SpatialDropout2D,
    keras.layers.GaussianDropout,
    keras.layers.GaussianNoise,
    keras.layers.AlphaDropout,
    keras.layers.ActivityRegularization,
    keras.layers.Identity,
    keras.layers.RandomFlip,
    keras.layers.RandomRotation,
    keras.layers.RandomTranslation,
    keras.layers.RandomZoom,
    keras.layers.RandomContrast,
    keras.layers.RandomBrightness,
)
#: Layers that scale and shift each map on its own: between a conv layer and its ReLU layer
#: they belong to the conv layer's pre-activation.
AFFINE_PER_MAP_LAYERS = (keras.layers.BatchNormalization, keras.layers.Dropout)
#: Shape-keeping or flattening layers copied with their weights, as they are.
COPIED_WITH_WEIGHTS_LAYERS = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
    keras.layers.Normalization,
    keras.layers.Rescaling,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
    keras.layers.Softmax,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalMaxPooling2D,
)


#: Layers whose output at a position depends only on their input at that position.
PER_POSITION_LAYERS = (
    keras.layers.BatchNormalization,
    keras.layers.Dropout,
    keras.layers.Rescaling,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
)


def is_identity_at_inference(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, IDENTITY_AT_INFERENCE_LAYERS)


def is_copied_with_weights(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, COPIED_WITH_WEIGHTS_LAYERS)


def separate_relu(layers: Sequence[keras.layers.Layer], index: int) -> int | None:
    """The index of the ReLU layer that is the activation of the linear conv or dense layer
    at ``index``: the next layer, or the next after normalisation and identity layers."""
    for position in range(index + 1, len(layers)):
        layer = layers[position]
        if is_plain_relu(layer):
            return position
        if not isinstance(layer, AFFINE_PER_MAP_LAYERS) and not is_identity_at_inference(layer):
            return None
    return None


def last_layer_of(layers: Sequence[keras.layers.Layer], index: int) -> int:
    """The index of the last layer the pre-activation of the target at ``index`` needs: its
    separate ReLU layer, if it has one, else the target itself."""
    layer = layers[index]
    if (is_conv(layer) or is_dense(layer)) and activation_of(layer) == "linear":
        relu = separate_relu(layers, index)
        return index if relu is None else relu
    return index


def is_plain_relu(layer: keras.layers.Layer) -> bool:
    """An ``Activation("relu")`` layer, or a ``ReLU()`` layer with its default settings."""
    if isinstance(layer, keras.layers.Activation):
        return activation_of(layer) == "relu"
    if isinstance(layer, keras.layers.ReLU):
        config = layer.get_config()
        return (
            config.get("max_value") is None
            and not config.get("negative_slope")
            and not config.get("threshold")
        )
    return False
