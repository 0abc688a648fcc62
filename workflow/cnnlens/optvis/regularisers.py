"""Graph side of the penalty terms (:data:`cnnlens.optvis.objectives.PENALTY_KINDS`) and the
blur between steps: what keeps an ascent's images smooth, faint or apart (lucid's
regularisers and diversity).

The engine adds :func:`penalty` to what each image climbs (never to the objective it
reports). Images are measured in standardised units: ``(image - centre) / unit`` with the
parameterisation's centre and unit (0 and 1 for per-image standardisation, the middle and a
sixth of [low, high] for a bounded range), so a weight means the same for every input range.
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

NORM_FLOOR = 1e-12


def penalty(images, outputs, weights, groups, diversity_layer: int | None, centre, unit):
    """(batch,) the weighted sum of each image's penalties: ``weights`` (batch, 3) of total
    variation, L2 and diversity (of the Gram matrices of ``outputs[diversity_layer]``'s
    activations within ``groups``)."""
    scaled = (images - centre) / unit
    total = weights[:, 0] * total_variation(scaled) + weights[:, 1] * mean_square(scaled)
    if diversity_layer is not None:
        activations = tf.nn.relu(tf.cast(outputs[diversity_layer], tf.float32))
        total += weights[:, 2] * group_similarity(activations, groups)
    return total


def total_variation(images):
    """(batch,) mean absolute difference between vertically and horizontally neighbouring
    pixels (summed over the two directions), over positions and channels."""
    rows = tf.reduce_mean(tf.abs(images[:, 1:] - images[:, :-1]), axis=[1, 2, 3])
    columns = tf.reduce_mean(tf.abs(images[:, :, 1:] - images[:, :, :-1]), axis=[1, 2, 3])
    return rows + columns


def mean_square(images):
    """(batch,) mean square over positions and channels."""
    return tf.reduce_mean(tf.square(images), axis=[1, 2, 3])


def group_similarity(activations, groups):
    """(batch,) mean cosine similarity of each image's Gram matrix (channels x channels, over
    positions) with those of the other images of its group (group -1 and lone images: 0).
    Linear in the batch: each image meets its group's sum, not every other image."""
    positions = tf.cast(tf.shape(activations)[1] * tf.shape(activations)[2], tf.float32)
    gram = tf.einsum("bhwc,bhwd->bcd", activations, activations) / positions
    flat = tf.reshape(gram, [tf.shape(gram)[0], -1])
    unit_rows = flat / tf.maximum(tf.norm(flat, axis=1, keepdims=True), NORM_FLOOR)
    _, segments = tf.unique(groups)
    count = tf.reduce_max(segments) + 1
    sums = tf.math.unsorted_segment_sum(unit_rows, segments, count)
    members = tf.math.unsorted_segment_sum(tf.ones_like(unit_rows[:, 0]), segments, count)
    others = tf.gather(sums, segments) - unit_rows
    similarity = tf.reduce_sum(unit_rows * others, axis=1)
    partners = tf.gather(members, segments) - 1.0
    grouped = (groups >= 0) & (partners > 0)
    return tf.where(grouped, similarity / tf.maximum(partners, 1.0), 0.0)


@dataclass(frozen=True)
class Blur:
    """Blur the images by a Gaussian of ``sigma`` pixels (:func:`cnnlens.blur.gaussian_blur`)
    before every ``every``-th step (not before the first), then bring them back into the input
    range (lucid's blur_input_each_step, spaced out)."""

    every: int
    sigma: float

    def due(self, step: int, steps: int) -> bool:
        return self.every > 0 and 0 < step < steps and step % self.every == 0
