"""The runs' activations read out together, batch by batch, into the correlations of every
layer's maps between run 0 and each further run."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from cnnlens.activations.readout import BATCH_SIZE, readout_batches, readout_model
from cnnlens.trainings.correlation import CrossCorrelation

#: (layer, run k) -> (maps of run 0, maps of run k) correlations
Correlations = dict[tuple[str, int], np.ndarray]


def run_correlations(
    models: Sequence[keras.Model],
    images: np.ndarray,
    layers: Sequence[str],
    batch_size: int = BATCH_SIZE,
) -> Correlations:
    """r of every map of ``models[0]`` with every map of ``models[k]``, per layer and k >= 1,
    over all positions of all ``images`` (each batch read out of every model once)."""
    readouts = [readout_model(model, layers) for model in models]
    accumulators = {
        (layer, run): CrossCorrelation() for layer in layers for run in range(1, len(models))
    }
    batches = zip(*(readout_batches(readout, images, layers, batch_size) for readout in readouts))
    for (_, first), *others in batches:
        for run, (_, other) in enumerate(others, start=1):
            for layer in layers:
                accumulators[layer, run].add(first[layer], other[layer])
    return {key: accumulator.correlation() for key, accumulator in accumulators.items()}
