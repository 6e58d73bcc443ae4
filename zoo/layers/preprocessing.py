"""Pixel normalisation inside the model, so every caller passes raw pixels (0-255)."""

import keras
from keras import ops

# Per-channel constants of keras.applications.imagenet_utils.preprocess_input.
_CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)

MODES = ("caffe", "torch", "tf", "none")


@keras.saving.register_keras_serializable(package="zoo")
class ImagePreprocessing(keras.layers.Layer):
    """Normalise raw RGB pixels the way a backbone's ImageNet weights expect.

    Modes (as in `keras.applications.imagenet_utils.preprocess_input`):
        "caffe": RGB -> BGR, then subtract the ImageNet BGR mean (ResNet).
        "torch": scale to 0-1, then ImageNet mean/std per channel.
        "tf":    scale to -1..1 (ViT, as timm's augreg weights).
        "none":  identity (EfficientNet models normalise inside themselves).

    Input: `(batch, height, width, 3)` float pixels 0-255, RGB. Output: same shape.
    """

    def __init__(self, mode: str = "caffe", **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"preprocessing mode {mode!r}: valid modes are {', '.join(MODES)}")
        self.mode = mode

    def call(self, images):
        x = ops.cast(images, self.compute_dtype)
        if self.mode == "caffe":
            return ops.flip(x, axis=-1) - ops.convert_to_tensor(_CAFFE_BGR_MEAN, x.dtype)
        if self.mode == "torch":
            mean = ops.convert_to_tensor(_TORCH_MEAN, x.dtype)
            std = ops.convert_to_tensor(_TORCH_STD, x.dtype)
            return (x / 255.0 - mean) / std
        if self.mode == "tf":
            return x / 127.5 - 1.0
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
