"""Reading activations out of the model: the outputs of named layers for a batch of images,
batch by batch, and what the stage builds from them (probabilities, the selected images'
activations, the class statistics of the test set)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import keras
import numpy as np
import tensorflow as tf

from cnnlens.activations.example_set import ExampleSet
from cnnlens.activations.examples import Example
from cnnlens.activations.statistics import ClassStatistics, ClassStatisticsAccumulator
from cnnlens.model import describe, softmax

BATCH_SIZE = 500
LAYERS_SETTING = "activations.layers"


def output_layer(model: keras.Model) -> str:
    """The name of the model's output layer (its last), whose nodes are the classes."""
    return model.layers[-1].name


def is_softmax(layer: keras.layers.Layer) -> bool:
    """True when ``layer`` applies a softmax (its outputs are class probabilities)."""
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", str(activation)) == "softmax"


def as_probabilities(model: keras.Model, outputs: np.ndarray) -> np.ndarray:
    """The model's outputs as class probabilities: as they are from a softmax output layer,
    through a softmax from a linear one (logits)."""
    return outputs if is_softmax(model.layers[-1]) else softmax(outputs)


def readout_model(model: keras.Model, layers: Sequence[str]) -> keras.Model:
    """A model from the CNN's input to the outputs of ``layers`` (in that order), or a
    one-line error naming an unknown layer and the layers there are."""
    network = describe(model)
    for name in layers:
        network.layer(name, LAYERS_SETTING)
    outputs = [model.get_layer(name).output for name in layers]
    return keras.Model(model.inputs[0], outputs, name="readout")


def readout_batches(
    readout: keras.Model, images: np.ndarray, layers: Sequence[str], batch_size: int
) -> Iterator[tuple[slice, dict[str, np.ndarray]]]:
    """Yield (which images, {layer: activations}) batch by batch, so memory stays bounded.
    The forward pass is compiled once (about 3x faster than eager calls, same values), traced
    as written (no autograph: the model's call has no Python control flow on tensors)."""
    forward = tf.function(
        lambda batch: readout(batch, training=False), reduce_retracing=True, autograph=False
    )
    for start in range(0, len(images), batch_size):
        batch = slice(start, min(start + batch_size, len(images)))
        outputs = forward(tf.convert_to_tensor(images[batch]))
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        yield batch, {name: np.asarray(output) for name, output in zip(layers, outputs)}


def read_out(
    model: keras.Model, images: np.ndarray, layers: Sequence[str], batch_size: int = BATCH_SIZE
) -> dict[str, np.ndarray]:
    """The activations of ``layers`` for all ``images``, as {layer: (N, *layer shape)}."""
    readout = readout_model(model, layers)
    parts: dict[str, list[np.ndarray]] = {
        name: [np.zeros((0, *output.shape[1:]), dtype=np.float32)]
        for name, output in zip(layers, readout.outputs)
    }
    for _, outputs in readout_batches(readout, images, layers, batch_size):
        for name, values in outputs.items():
            parts[name].append(values)
    return {name: np.concatenate(values) for name, values in parts.items()}


def predict_probabilities(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """The class probabilities (N, classes) the model gives each image (the softmax of its
    outputs when its last layer is linear)."""
    name = output_layer(model)
    return as_probabilities(model, read_out(model, images, [name])[name])


def read_out_examples(
    model: keras.Model, images: np.ndarray, examples: Sequence[Example], layers: Sequence[str]
) -> ExampleSet:
    """Read out ``layers`` for the selected test images (grey images stored as (N, H, W),
    colour ones as (N, H, W, 3))."""
    chosen = images[[example.index for example in examples]]
    shown = chosen[..., 0] if chosen.shape[-1] == 1 else chosen
    return ExampleSet(
        tuple(examples), shown, read_out(model, chosen, layers), output_layer(model)
    )


def class_statistics(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    layers: Sequence[str],
    batch_size: int = BATCH_SIZE,
) -> ClassStatistics:
    """Class statistics of ``layers`` over all ``images`` (read out in batches), one class per
    node of the model's output layer."""
    accumulator = ClassStatisticsAccumulator(int(model.outputs[0].shape[-1]), output_layer(model))
    readout = readout_model(model, layers)
    for batch, outputs in readout_batches(readout, images, layers, batch_size):
        accumulator.add(outputs, labels[batch])
    return accumulator.result()
