"""The four ways :mod:`oip_engine` times on the same climb: the study's (eager, one map at a
time), a compiled step per map, tf-keras-vis 0.8.7 and our batched engine. TensorFlow and the
libraries are imported inside each, so that ``--help`` stays fast."""

from __future__ import annotations

import numpy as np


def spec_update(images, gradient, epsilon: float):
    """The ascent's update: RMS-normalised gradient step, then per-image standardisation."""
    import tensorflow as tf
    from cnnlens.optvis.param import standardise

    rms = tf.sqrt(tf.reduce_mean(tf.square(gradient), axis=[1, 2, 3], keepdims=True))
    return standardise(images + epsilon * gradient / (rms + 1e-7))


def study_way(layer_model, starts: np.ndarray, maps: np.ndarray, steps: int, epsilon: float):
    """One map at a time, eager GradientTape per step."""
    import tensorflow as tf

    results = []
    for image, map_index in zip(starts, maps):
        current = tf.constant(image[None])
        for _ in range(steps):
            with tf.GradientTape() as tape:
                tape.watch(current)
                objective = tf.reduce_mean(layer_model(current)[..., int(map_index)])
            current = spec_update(current, tape.gradient(objective, current), epsilon)
        results.append(current.numpy()[0])
    return np.stack(results)


def compiled_per_map(layer_model, starts: np.ndarray, maps: np.ndarray, steps: int, epsilon: float):
    """One map at a time, a compiled step (the map index is a tensor: one trace)."""
    import tensorflow as tf

    @tf.function
    def step(current, map_index):
        with tf.GradientTape() as tape:
            tape.watch(current)
            activation = layer_model(current)
            objective = tf.reduce_mean(tf.gather(activation, map_index, axis=3))
        return spec_update(current, tape.gradient(objective, current), epsilon)

    results = []
    for image, map_index in zip(starts, maps):
        current = tf.constant(image[None])
        index = tf.constant(int(map_index))
        for _ in range(steps):
            current = step(current, index)
        results.append(current.numpy()[0])
    return np.stack(results)


def tf_keras_vis_way(model, layer: str, starts: np.ndarray, maps: np.ndarray, steps: int):
    """tf-keras-vis 0.8.7: ActivationMaximization of a batch of filters, its defaults."""
    from tf_keras_vis.activation_maximization import ActivationMaximization
    from tf_keras_vis.utils.model_modifiers import ExtractIntermediateLayer, ReplaceToLinear
    from tf_keras_vis.utils.scores import CategoricalScore

    visualiser = ActivationMaximization(
        model, model_modifier=[ExtractIntermediateLayer(layer), ReplaceToLinear()], clone=True
    )
    return np.asarray(
        visualiser(
            CategoricalScore([int(k) for k in maps]),
            seed_input=starts,
            steps=steps,
            input_range=(None, None),
        )
    )


def engine_way(
    model,
    layer: str,
    starts: np.ndarray,
    maps: np.ndarray,
    steps: int,
    epsilon: float,
    compute_dtype: str,
    jit_compile: bool = False,
):
    from cnnlens.optvis import objectives
    from cnnlens.optvis.engine import AscentEngine
    from cnnlens.optvis.render import render

    engine = AscentEngine(model, [layer], compute_dtype=compute_dtype, jit_compile=jit_compile)
    objective = objectives.channels(layer, maps)
    render(engine, starts[:8], objective.take(slice(0, 8)), 2, epsilon)  # trace once
    return lambda: render(engine, starts, objective, steps, epsilon).images
