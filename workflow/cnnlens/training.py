"""Fitting the CNN: validation split, augmentation, optimiser, schedule, and evaluation."""

from __future__ import annotations

import logging
import time

import keras
import numpy as np
import tensorflow as tf

from cnnlens.errors import CnnLensError
from cnnlens.files import atomic_path
from cnnlens.model import softmax
from cnnlens.settings import Training
from cnnlens.training_records import Evaluation

log = logging.getLogger(__name__)


def dtype_policy(mixed_precision: str, on_gpu: bool) -> str:
    """The Keras dtype policy for training: mixed float16 on a GPU when asked ("auto": on a GPU
    only), float32 otherwise (the CPU gains nothing from float16, and float32 keeps CPU runs
    bit-reproducible)."""
    if mixed_precision == "always" or (mixed_precision == "auto" and on_gpu):
        return "mixed_float16"
    return "float32"


def split_validation(
    images: np.ndarray, labels: np.ndarray, size: int, seed: int
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray] | None]:
    """Hold out ``size`` random training images (seeded) for validation."""
    if size == 0:
        return (images, labels), None
    if size >= len(images):
        raise CnnLensError(
            f"training.validation_size {size} leaves no training images out of {len(images)}; "
            "lower it in config.yaml"
        )
    order = np.random.default_rng(seed).permutation(len(images))
    held_out, kept = np.sort(order[:size]), np.sort(order[size:])
    return (images[kept], labels[kept]), (images[held_out], labels[held_out])


def learning_rate_schedule(
    settings: Training, steps_per_epoch: int
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The learning rate as a function of the optimiser step."""
    total_steps = max(1, settings.epochs * steps_per_epoch)
    rate, schedule = settings.optimizer.learning_rate, settings.lr_schedule
    if schedule.kind == "constant":
        return rate
    if schedule.kind == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            rate, total_steps, alpha=schedule.final_fraction
        )
    if schedule.kind == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(
            rate, total_steps, schedule.final_fraction
        )
    raise CnnLensError(f"unknown training.lr_schedule.kind {schedule.kind!r}")


def make_optimizer(settings: Training, steps_per_epoch: int) -> keras.optimizers.SGD:
    """SGD with momentum on the configured schedule."""
    return keras.optimizers.SGD(
        learning_rate=learning_rate_schedule(settings, steps_per_epoch),
        momentum=settings.optimizer.momentum,
        nesterov=settings.optimizer.nesterov,
    )


def training_dataset(
    images: np.ndarray, labels: np.ndarray, settings: Training, seed: int
) -> tf.data.Dataset:
    """Shuffled, batched, optionally shifted training batches; the same for the same seed."""
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(settings.batch_size)
    shift_pixels = settings.augmentation.shift_pixels
    if shift_pixels > 0:
        factor = shift_pixels / images.shape[1]
        shift = keras.layers.RandomTranslation(
            factor, factor, fill_mode="nearest", interpolation="nearest", seed=seed
        )
        dataset = dataset.map(lambda x, y: (shift(x, training=True), y))
    return dataset.prefetch(2)


class EpochRecorder(keras.callbacks.Callback):
    """Record, per epoch, the wall time and the learning rate in force at its end."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, float]] = []
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        row = {"epoch": epoch + 1, **{key: float(value) for key, value in (logs or {}).items()}}
        row["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row["seconds"] = time.perf_counter() - self._started
        self.rows.append(row)
        log.info("epoch %d: %s", epoch + 1, ", ".join(f"{k}={v:.4g}" for k, v in row.items()))


def fit(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    settings: Training,
    seed: int,
) -> tuple[list[dict[str, float]], float]:
    """Compile and train ``model``; return one row of metrics per epoch, and the seconds."""
    (train_x, train_y), validation = split_validation(
        images, labels, settings.validation_size, seed
    )
    steps_per_epoch = int(np.ceil(len(train_x) / settings.batch_size))
    model.compile(
        optimizer=make_optimizer(settings, steps_per_epoch),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    recorder = EpochRecorder()
    started = time.perf_counter()
    model.fit(
        training_dataset(train_x, train_y, settings, seed),
        validation_data=validation,
        epochs=settings.epochs,
        callbacks=[recorder],
        shuffle=False,  # the dataset is shuffled, seeded, by training_dataset
        verbose=0,  # EpochRecorder logs one line per epoch
    )
    return recorder.rows, time.perf_counter() - started


def class_probabilities(model: keras.Model, images: np.ndarray, logits: bool = False) -> np.ndarray:
    """The model's class probabilities (N, classes) as float64; ``logits``: the model gives
    logits (a linear output layer), turned into probabilities by a softmax here."""
    outputs = model.predict(images, batch_size=1000, verbose=0).astype(np.float64)
    return softmax(outputs) if logits else outputs


def evaluate(
    model: keras.Model, images: np.ndarray, labels_one_hot: np.ndarray, logits: bool = False
) -> Evaluation:
    """Cross-entropy (without the L2 penalty), accuracy, per-class accuracy and confusion
    (``logits``: see :func:`class_probabilities`)."""
    probabilities = class_probabilities(model, images, logits)
    true = np.argmax(labels_one_hot, axis=1)
    predicted = np.argmax(probabilities, axis=1)
    loss = -np.mean(np.log(np.clip(probabilities[np.arange(len(true)), true], 1e-12, None)))
    classes = max(labels_one_hot.shape[1], probabilities.shape[1])  # one per model output
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (true, predicted), 1)
    per_class = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)
    accuracy = float(np.mean(predicted == true))
    return Evaluation(float(loss), accuracy, per_class.round(6).tolist(), confusion)


def save_model(model: keras.Model, path: str) -> None:
    """Save the model in the native ``.keras`` format, atomically."""
    with atomic_path(path) as temporary:
        model.save(temporary)
