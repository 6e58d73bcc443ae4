"""Pixel normalisation inside the model, so every caller passes raw pixels (0-255)."""

import keras
from keras import ops

# Per-channel constants of keras.applications.imagenet_utils.preprocess_input.
_CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)

MODES = ("caffe", "torch", "tf", "normalize", "none")


@keras.saving.register_keras_serializable(package="zoo")
class ImagePreprocessing(keras.layers.Layer):
    """Normalise raw RGB pixels the way a backbone's pretrained weights expect.

    Modes (the first three as in `keras.applications.imagenet_utils.preprocess_input`):
        "caffe":     RGB -> BGR, then subtract the ImageNet BGR mean (ResNet).
        "torch":     scale to 0-1, then ImageNet mean/std per channel.
        "tf":        scale to -1..1 (ViT, as timm's augreg weights: mean = std = 0.5).
        "normalize": scale to 0-1, then the given per-channel `mean`/`std`
                     (0-1 units, as in a timm `pretrained_cfg`).
        "none":      identity (EfficientNet and ConvNeXt normalise inside themselves).

    Input: `(batch, height, width, 3)` float pixels 0-255, RGB. Output: same shape.
    """

    def __init__(self, mode: str = "caffe", mean=None, std=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"preprocessing mode {mode!r}: valid modes are {', '.join(MODES)}")
        if mode == "torch":
            mode, mean, std = "normalize", _TORCH_MEAN, _TORCH_STD
        if mode == "normalize":
            mean, std = _channels("mean", mean), _channels("std", std)
            if min(std) <= 0:
                raise ValueError(f"preprocessing std must be positive, got {std}")
        elif mean is not None or std is not None:
            raise ValueError(f"preprocessing mode {mode!r} takes no mean/std")
        self.mode, self.mean, self.std = mode, mean, std

    def call(self, images):
        x = ops.cast(images, self.compute_dtype)
        if self.mode == "caffe":
            return ops.flip(x, axis=-1) - ops.convert_to_tensor(_CAFFE_BGR_MEAN, x.dtype)
        if self.mode == "normalize":
            mean = ops.convert_to_tensor(self.mean, x.dtype)
            std = ops.convert_to_tensor(self.std, x.dtype)
            return (x / 255.0 - mean) / std
        if self.mode == "tf":
            return x / 127.5 - 1.0
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = {**super().get_config(), "mode": self.mode}
        if self.mode == "normalize":
            config.update(mean=list(self.mean), std=list(self.std))
        return config


def _channels(what: str, values) -> tuple[float, float, float]:
    try:
        out = tuple(float(v) for v in values)
    except TypeError:
        out = ()
    if len(out) != 3:
        raise ValueError(
            f"preprocessing {what} must be 3 numbers (R, G, B in 0-1 units), got {values!r}"
        )
    return out


def make_preprocessing(spec, name: str = "preprocess") -> ImagePreprocessing:
    """An `ImagePreprocessing` from a mode name or a `{"mean": [...], "std": [...]}` dict (0-1 units)."""
    if isinstance(spec, dict):
        return ImagePreprocessing(
            "normalize", mean=spec.get("mean"), std=spec.get("std"), name=name
        )
    return ImagePreprocessing(spec, name=name)
