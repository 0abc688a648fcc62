"""The Fourier parameterisation (lucid's ``fft`` image): the ascent moves a scaled spectrum.

The state of an image is its real 2-D FFT (orthonormal), per channel, divided by a 1/f
weight: ``1 / max(f, 1 / max(H, W)) ** decay`` (f the frequency in cycles per pixel), the
weights scaled to root mean square 1 over the spectrum the state holds. The image of a state is
the inverse FFT of the weighted spectrum, for 3-channel models its colours mixed by lucid's
fixed square root of ImageNet's colour correlation (normalised to a largest column norm of 1,
so the state's channels are decorrelated colours), brought into the model's input range as
pixels are (re-standardised, or clipped to [low, high]); all inside the compiled step, so the
gradient reaches the state through the range too (with the standardisation inside the graph,
a step does not spend itself on the mean and the contrast, which the standardisation would
undo). The spectrum and colour maps are linear and invertible: :meth:`Fourier.start` gives the
state whose image is the given image (one in the input range).

A step is the same as for pixels (:class:`cnnlens.optvis.param.Pixels`) but on the state: the
gradient divided by its root mean square (per image) times epsilon (in sixths of the span for
a bounded range); then the state becomes its image's state again (so it stays in range). A
gradient step on the scaled spectrum favours long-range structure, the 1/f weight twice (once
in the gradient, once in the image).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from cnnlens.errors import CnnLensError
from cnnlens.optvis.param import RMS_FLOOR, Pixels
from cnnlens.preprocessing import Preprocessing

#: lucid's square root of ImageNet's RGB colour correlation (rows: red, green, blue).
COLOUR_CORRELATION_SQRT = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float64
)


def spectrum_weights(height: int, width: int, decay: float = 1.0) -> np.ndarray:
    """(height, width // 2 + 1) float64 weights 1 / max(f, 1 / max(H, W)) ** decay of the real
    FFT's frequencies, scaled to root mean square 1."""
    rows = np.fft.fftfreq(height)[:, None]
    columns = np.fft.rfftfreq(width)[None, :]
    frequencies = np.sqrt(rows**2 + columns**2)
    weights = 1.0 / np.maximum(frequencies, 1.0 / max(height, width)) ** decay
    return weights / np.sqrt(np.mean(weights**2))


def colour_mixing(channels: int) -> np.ndarray:
    """(channels, channels): lucid's normalised colour correlation square root for 3 channels,
    the identity otherwise."""
    if channels != 3:
        return np.eye(channels)
    return COLOUR_CORRELATION_SQRT / np.linalg.norm(COLOUR_CORRELATION_SQRT, axis=0).max()


class Fourier:
    """Images of ``size`` (height, width) and ``channels`` described by their scaled spectrum,
    kept in the input range of ``preprocessing`` (None: per-image standardisation); the state
    is (B, 2, channels, height, width // 2 + 1): real and imaginary parts."""

    def __init__(
        self,
        size: tuple[int | None, int | None],
        channels: int,
        preprocessing: Preprocessing | None = None,
        decay: float = 1.0,
    ) -> None:
        if size[0] is None or size[1] is None:
            raise CnnLensError(
                "the Fourier parameterisation needs images of a fixed size; use oip.param: pixel"
            )
        self.pixels = Pixels(preprocessing)
        self.unit, self.centre = self.pixels.unit, self.pixels.centre
        self.height, self.width = int(size[0]), int(size[1])
        self.weights = spectrum_weights(self.height, self.width, decay)
        self.mixing = colour_mixing(channels)
        self.unmixing = np.linalg.inv(self.mixing)
        self.norm = np.sqrt(self.height * self.width)
        self._weights = tf.constant(self.weights, tf.complex64)
        self._mixing = tf.constant(self.mixing, tf.float32)
        self._unmixing = tf.constant(self.unmixing, tf.float32)

    def start(self, images: np.ndarray) -> tf.Tensor:
        """The state whose image is ``images`` (B, H, W, C)."""
        unmixed = np.einsum("bhwc,dc->bdhw", np.asarray(images, np.float64), self.unmixing)
        spectrum = np.fft.rfft2(unmixed) / self.norm / self.weights
        state = np.stack([spectrum.real, spectrum.imag], axis=1)
        return tf.convert_to_tensor(state.astype(np.float32))

    def images(self, state: tf.Tensor) -> np.ndarray:
        """The (B, H, W, C) float32 images of a state (clipped to a bounded range, which the
        FFT's round-off may leave by ~1e-7)."""
        images = self.image(state).numpy()
        return images if self.pixels.bounds is None else self.pixels.project(images)

    def image(self, state: tf.Tensor) -> tf.Tensor:
        """Graph side: the images the network sees."""
        spectrum = tf.complex(state[:, 0], state[:, 1]) * self._weights
        planes = tf.signal.irfft2d(spectrum, fft_length=[self.height, self.width]) * self.norm
        return self.pixels.into_range(tf.einsum("bchw,dc->bhwd", planes, self._mixing))

    def state(self, images: tf.Tensor) -> tf.Tensor:
        """Graph side: the state of (B, H, W, C) images."""
        planes = tf.einsum("bhwc,dc->bdhw", images, self._unmixing)
        spectrum = tf.signal.rfft2d(planes, fft_length=[self.height, self.width])
        spectrum = spectrum / tf.cast(self.norm, tf.complex64) / self._weights
        return tf.stack([tf.math.real(spectrum), tf.math.imag(spectrum)], axis=1)

    def update(self, state: tf.Tensor, gradient: tf.Tensor, epsilon: tf.Tensor) -> tf.Tensor:
        """Graph side: an RMS-normalised step on the state, then the state of its image."""
        rms = tf.sqrt(tf.reduce_mean(tf.square(gradient), axis=[1, 2, 3, 4], keepdims=True))
        moved = state + (self.unit * epsilon) * gradient / (rms + RMS_FLOOR)
        return self.state(self.image(moved))

    def project(self, images: np.ndarray) -> np.ndarray:
        """NumPy side: (B, H, W, C) images brought into the input range."""
        return self.pixels.project(images)
