"""Frequency-domain filtering and unsharp-mask sharpening of raw-pixel images.

Backend-agnostic (keras.ops only). Every layer takes and returns float images
(batch, height, width, channels), channels-last, pixels 0..255; outputs are clipped
to 0..255. Spatial frequencies are in cycles per pixel: 0 (the mean) .. 0.5 (Nyquist)
per axis, so the radial frequency sqrt(fy^2 + fx^2) runs 0 .. ~0.707.
"""

import math

import keras
from keras import ops

MODES = ("lowpass", "highpass", "bandpass")
# make_image_filter: values used when a spec gives none (cutoffs in cycles/pixel, amount)
SPEC_DEFAULTS = {"lowpass": (0.25,), "highpass": (0.1,), "bandpass": (0.05, 0.3), "sharpen": (1.0,)}
FILTER_CHOICES = "none, lowpass[:CUTOFF], highpass[:CUTOFF], bandpass[:LOW-HIGH], sharpen[:AMOUNT]"


def radial_frequency(height: int, width: int):
    """(height, width) float32 radial frequency of each 2-D FFT bin, in cycles/pixel."""

    def axis(n):  # abs(numpy.fft.fftfreq(n)); n may be a dynamic size
        k = ops.arange(n, dtype="float32")
        n = ops.cast(n, "float32")
        return ops.minimum(k, n - k) / n

    fy, fx = axis(height), axis(width)
    return ops.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)


@keras.saving.register_keras_serializable(package="zoo")
class FourierFilter(keras.layers.Layer):
    """Ideal radial filter in the 2-D Fourier domain (keras.ops.fft2 / ifft2).

    Modes (frequency r in cycles/pixel):
        "lowpass":  keep r <= cutoff (blurs; the mean, r = 0, is always kept).
        "highpass": keep r > cutoff, plus the mean, so the image stays around its
                    average brightness and in the pixel range instead of centring on 0.
        "bandpass": keep cutoff <= r <= high_cutoff, plus the mean.
    An ideal (hard-edged) mask rings near strong edges; the result is clipped to 0..255.

    Input: (batch, height, width, channels) float pixels 0..255. Output: same shape.
    """

    def __init__(
        self, mode: str = "lowpass", cutoff: float = 0.25, high_cutoff: float = 0.5, **kwargs
    ):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"FourierFilter mode {mode!r}: valid modes are {', '.join(MODES)}")
        if not 0.0 < cutoff <= 0.5:
            raise ValueError(f"FourierFilter cutoff {cutoff}: must be in (0, 0.5] cycles/pixel")
        if mode == "bandpass" and not cutoff < high_cutoff <= 0.75:
            raise ValueError(
                f"FourierFilter band {cutoff}-{high_cutoff}: need cutoff < high_cutoff <= 0.75"
            )
        self.mode = mode
        self.cutoff = float(cutoff)
        self.high_cutoff = float(high_cutoff)

    def mask(self, height: int, width: int):
        """(height, width) float32 0/1 mask over the unshifted FFT bins."""
        r = radial_frequency(height, width)
        if self.mode == "lowpass":
            keep = r <= self.cutoff
        elif self.mode == "highpass":
            keep = (r > self.cutoff) | (r == 0)
        else:
            keep = ((r >= self.cutoff) & (r <= self.high_cutoff)) | (r == 0)
        return ops.cast(keep, "float32")

    def call(self, images):
        # (B, H, W, C) -> (B, C, H, W): fft2 works on the last two axes
        x = ops.transpose(ops.cast(images, "float32"), (0, 3, 1, 2))
        height, width = x.shape[2], x.shape[3]
        if height is None or width is None:
            height, width = ops.shape(x)[2], ops.shape(x)[3]
        mask = self.mask(height, width)
        real, imag = ops.fft2((x, ops.zeros_like(x)))
        real, _ = ops.ifft2((real * mask, imag * mask))
        out = ops.transpose(ops.clip(real, 0.0, 255.0), (0, 2, 3, 1))
        return ops.cast(out, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "mode": self.mode,
            "cutoff": self.cutoff,
            "high_cutoff": self.high_cutoff,
        }


@keras.saving.register_keras_serializable(package="zoo")
class UnsharpMask(keras.layers.Layer):
    """Sharpen: out = x + amount * (x - gaussian_blur(x, sigma)), clipped to 0..255.

    The blur is a separable Gaussian (radius ceil(3 sigma) pixels) run as two depthwise
    convolutions over a reflect-padded image, so borders are not darkened.

    Input: (batch, height, width, channels) float pixels 0..255. Output: same shape.
    """

    def __init__(self, amount: float = 1.0, sigma: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if amount < 0:
            raise ValueError(f"UnsharpMask amount {amount}: must be >= 0")
        if sigma <= 0:
            raise ValueError(f"UnsharpMask sigma {sigma}: must be > 0 pixels")
        self.amount = float(amount)
        self.sigma = float(sigma)
        self.radius = max(1, math.ceil(3 * self.sigma))

    def gaussian(self):
        """1-D normalised Gaussian taps, length 2 * radius + 1."""
        taps = [
            math.exp(-0.5 * (i / self.sigma) ** 2) for i in range(-self.radius, self.radius + 1)
        ]
        total = sum(taps)
        return [t / total for t in taps]

    def call(self, images):
        x = ops.cast(images, "float32")
        r, channels = self.radius, x.shape[-1]
        taps = ops.convert_to_tensor(self.gaussian(), "float32")
        # depthwise kernels (kh, kw, channels, 1): one vertical, then one horizontal pass
        kernel_v = ops.tile(ops.reshape(taps, (2 * r + 1, 1, 1, 1)), (1, 1, channels, 1))
        kernel_h = ops.tile(ops.reshape(taps, (1, 2 * r + 1, 1, 1)), (1, 1, channels, 1))
        padded = ops.pad(x, ((0, 0), (r, r), (r, r), (0, 0)), mode="reflect")
        blur = ops.depthwise_conv(padded, kernel_v, padding="valid", data_format="channels_last")
        blur = ops.depthwise_conv(blur, kernel_h, padding="valid", data_format="channels_last")
        out = ops.clip(x + self.amount * (x - blur), 0.0, 255.0)
        return ops.cast(out, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "amount": self.amount, "sigma": self.sigma}


def _numbers(spec: str, text: str, count: int) -> list[float]:
    """Parse `count` floats separated by '-' (e.g. "0.05-0.3"); ValueError names the spec."""
    parts = text.split("-")
    try:
        if len(parts) != count:
            raise ValueError
        return [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"image filter {spec!r}: valid choices are {FILTER_CHOICES}") from None


def make_image_filter(spec: str | None) -> keras.layers.Layer | None:
    """Parse "lowpass", "lowpass:0.2", "highpass:0.1", "bandpass:0.05-0.3", "sharpen",
    "sharpen:1.5" into a layer; None or "none" -> None. Defaults: SPEC_DEFAULTS."""
    if spec is None or spec == "none":
        return None
    name, _, arg = spec.partition(":")
    if name not in SPEC_DEFAULTS:
        raise ValueError(f"image filter {spec!r}: valid choices are {FILTER_CHOICES}")
    values = _numbers(spec, arg, len(SPEC_DEFAULTS[name])) if arg else SPEC_DEFAULTS[name]
    if name == "sharpen":
        return UnsharpMask(amount=values[0])
    return FourierFilter(name, *values)
