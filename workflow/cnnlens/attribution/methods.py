"""Five attribution methods for many images and classes at once.

For images (N, H, W, C) and one class per image, each method gives a relevance map (N, H, W):

* ``saliency``: the largest |d logit / d pixel| over the channels;
* ``smoothgrad``: the same of the gradient averaged over noisy copies of the image (noise of
  ``attribution.smoothgrad_noise`` times the image's value range);
* ``integrated_gradients_black`` and ``integrated_gradients_blurred``: (image - baseline)
  times the gradient averaged along the straight path from the baseline (midpoint rule,
  ``attribution.integrated_gradients_steps``), summed over the channels; signed, and summing to
  logit(image) - logit(baseline);
* ``grad_cam``: ReLU of the last conv layer's maps weighted by their mean gradient, placed on
  the input's pixels through the maps' receptive fields.

All images, noise samples and path steps of a method go through the network in a few
compiled calls (:class:`~cnnlens.attribution.scores.ClassScores`). The same pass gives each
map's activation x gradient, the ranking from a class back to the maps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from cnnlens.attribution import images as imaging
from cnnlens.attribution.scores import ClassScores
from cnnlens.blur import gaussian_blur
from cnnlens.network import Layer
from cnnlens.preprocessing import Preprocessing
from cnnlens.settings import AttributionMethods


@dataclasses.dataclass(frozen=True)
class Attributions:
    """Every method's relevance map of N images, per conv map (N, K) the sum over its
    positions of activation x gradient, and the logits (N, classes)."""

    relevance: dict[str, np.ndarray]
    map_scores: np.ndarray
    logits: np.ndarray


class Attributor:
    """The methods of ``settings`` on the model behind ``scores``; ``layer`` is the conv
    layer of Grad-CAM (as described in the network), ``preprocessing`` the model's input."""

    def __init__(
        self,
        scores: ClassScores,
        layer: Layer,
        settings: AttributionMethods,
        preprocessing: Preprocessing,
        seed: int,
    ) -> None:
        self.scores, self.layer, self.settings = scores, layer, settings
        self.preprocessing = preprocessing
        self.rng = np.random.default_rng(seed)
        self.smoothgrad = compiled_smoothgrad(scores, settings.smoothgrad_samples)
        self.integrated = compiled_integrated_gradients(scores, settings.integrated_gradients_steps)

    def attribute(self, images: np.ndarray, classes: np.ndarray) -> Attributions:
        """Every method for ``images`` and their ``classes`` (one per image)."""
        images = np.asarray(images, np.float32)
        classes = np.asarray(classes, np.int32)
        gradients, logits = batched(self.scores.input_gradients, [images, classes],
                                    self.scores.images_per_call())
        relevance = {"saliency": largest_magnitude(gradients)}
        relevance["smoothgrad"] = largest_magnitude(self.smooth(images, classes))
        baselines = {
            "black": imaging.black_baseline(images, self.preprocessing),
            "blurred": gaussian_blur(images, self.settings.blur_sigma),
        }
        for name, baseline in baselines.items():
            relevance[f"integrated_gradients_{name}"] = self.integrate(images, baseline, classes)
        relevance["grad_cam"], map_scores = self.grad_cam(images, classes)
        return Attributions(relevance, map_scores, logits)

    def integrate(
        self, images: np.ndarray, baselines: np.ndarray, classes: np.ndarray
    ) -> np.ndarray:
        """Integrated gradients from ``baselines``, summed over the channels (N, H, W)."""
        steps = self.settings.integrated_gradients_steps
        (attributions,) = batched(self.integrated, [images, baselines, classes],
                                  self.scores.images_per_call(steps))
        return attributions.sum(axis=-1)

    def smooth(self, images: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """SmoothGrad's mean gradient; the noise drawn here, seeded, chunk by chunk."""
        samples = self.settings.smoothgrad_samples
        ranges = images.max(axis=(1, 2, 3)) - images.min(axis=(1, 2, 3))
        sigmas = (self.settings.smoothgrad_noise * ranges).astype(np.float32)
        step = self.scores.images_per_call(samples)
        parts = []
        for start in range(0, len(images), step):
            chunk = slice(start, start + step)
            noise = self.rng.standard_normal((samples, *images[chunk].shape), dtype=np.float32)
            noise *= sigmas[chunk, None, None, None]
            parts.append(np.asarray(self.smoothgrad(images[chunk], classes[chunk], noise)))
        return np.concatenate(parts)

    def grad_cam(self, images: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Grad-CAM on the input's pixels (N, H, W), and per map (N, K) the sum over its
        positions of activation x gradient."""
        maps, gradients = batched(self.scores.map_gradients, [images, classes],
                                  self.scores.images_per_call())
        weights = gradients.mean(axis=(1, 2))
        cam = np.maximum((maps * weights[:, None, None, :]).sum(axis=-1), 0.0)
        on_input = imaging.to_input_pixels(cam, self.layer, self.scores.input_shape)
        return on_input, (maps * gradients).sum(axis=(1, 2))


def largest_magnitude(gradients: np.ndarray) -> np.ndarray:
    """(N, H, W): the largest absolute value over the channels."""
    return np.abs(gradients).max(axis=-1)


def batched(
    function: Callable, arrays: Sequence[np.ndarray], step: int
) -> list[np.ndarray]:
    """``function`` of the arrays' first ``step`` rows, the next ``step``, ...; each of its
    outputs concatenated over the chunks."""
    outputs = []
    for start in range(0, len(arrays[0]), step):
        result = function(*(tf.constant(array[start : start + step]) for array in arrays))
        result = result if isinstance(result, (tuple, list)) else (result,)
        outputs.append([np.asarray(part) for part in result])
    return [np.concatenate(parts) for parts in zip(*outputs)]


def compiled_smoothgrad(scores: ClassScores, samples: int) -> Callable:
    """A compiled function: the class gradient averaged over ``samples`` noisy copies of each
    image (the noise (samples, N, H, W, C) given)."""
    shape = scores.input_shape
    signature = [
        tf.TensorSpec((None, *shape), tf.float32),
        tf.TensorSpec((None,), tf.int32),
        tf.TensorSpec((samples, None, *shape), tf.float32),
    ]

    @tf.function(input_signature=signature)
    def smoothgrad(images, classes, noise):
        noisy = tf.reshape(images[tf.newaxis] + noise, (-1, *shape))
        gradients, _ = scores.gradients(noisy, tf.tile(classes, [samples]))
        return tf.reduce_mean(tf.reshape(gradients, tf.shape(noise)), axis=0)

    return smoothgrad


def compiled_integrated_gradients(scores: ClassScores, steps: int) -> Callable:
    """A compiled function: integrated gradients from given baselines, ``steps`` midpoints
    of the straight path, (N, H, W, C)."""
    shape = scores.input_shape
    image_spec = tf.TensorSpec((None, *shape), tf.float32)
    signature = [image_spec, image_spec, tf.TensorSpec((None,), tf.int32)]

    @tf.function(input_signature=signature)
    def integrated(images, baselines, classes):
        fractions = (tf.range(steps, dtype=tf.float32) + 0.5) / steps
        difference = images - baselines
        path = baselines[tf.newaxis] + fractions[:, None, None, None, None] * difference
        gradients, _ = scores.gradients(tf.reshape(path, (-1, *shape)), tf.tile(classes, [steps]))
        mean = tf.reduce_mean(tf.reshape(gradients, tf.shape(path)), axis=0)
        return difference * mean

    return integrated
