"""A zoo model (`zoo.ArtistModel`) as a Predictor, on this process's Keras backend."""

import functools

import numpy as np

from zoo.inference.batching import checked_images


class KerasPredictor:
    """`predict(float32 (B, H, W, 3) 0..255) -> {head: numpy (B, n)}` through
    `model.predict_on_batch`; `embed` gives the pooled features; `.model` is the ArtistModel."""

    runtime = "keras"
    batch = None

    def __init__(self, model):
        import keras

        self.model = model
        self.name = model.name
        self.image_size = model.image_size
        self.label_space = model.label_space
        self.calibration = getattr(model, "calibration", None)  # zoo.calibration.store's record
        self.backend = keras.backend.backend()

    def predict(self, images) -> dict[str, np.ndarray]:
        images = checked_images(images, self.image_size, self.name)
        out = self.model.predict_on_batch(images)
        return {name: np.asarray(v) for name, v in out.items()}

    @functools.cached_property
    def features(self):
        """The Keras model pixels -> pooled features (`feature_extractor()`), built on first use."""
        return self.model.feature_extractor()

    def embed(self, images) -> np.ndarray:
        """`(B, H, W, 3)` float32 pixels -> `(B, D)` float32 pooled features (the heads' input)."""
        images = checked_images(images, self.image_size, self.name)
        return np.asarray(self.features.predict_on_batch(images), np.float32)
