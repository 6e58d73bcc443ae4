"""A zoo model (`zoo.ArtistModel`) as a Predictor, on this process's Keras backend."""

import functools

import numpy as np

from data_tools.labels import PRIMARY
from zoo.calibration import store
from zoo.inference.batching import checked_images


class KerasPredictor:
    """`predict(float32 (B, H, W, 3) 0..255) -> {head: numpy (B, n)}` through
    `model.predict_on_batch`; `embed` gives the pooled features; `.model` is the ArtistModel.
    A model whose unknown-artist score is the energy also answers the artist head's logits
    (`store.LOGITS_KEY`, from the same forward pass)."""

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
        if not store.wants_logits(self.calibration):
            out = self.model.predict_on_batch(images)
            return {name: np.asarray(v) for name, v in out.items()}
        from zoo.training.features import FEATURES, head_logits

        out = {name: np.asarray(v) for name, v in self.with_features.predict_on_batch(images).items()}
        out[store.LOGITS_KEY] = head_logits(self.model, out.pop(FEATURES))[PRIMARY]
        return out

    @functools.cached_property
    def with_features(self):
        """The Keras model pixels -> {head: output, "features"} (`zoo.training.features`)."""
        from zoo.training.features import with_features

        return with_features(self.model)

    @functools.cached_property
    def features(self):
        """The Keras model pixels -> pooled features (`feature_extractor()`), built on first use."""
        return self.model.feature_extractor()

    def embed(self, images) -> np.ndarray:
        """`(B, H, W, 3)` float32 pixels -> `(B, D)` float32 pooled features (the heads' input)."""
        images = checked_images(images, self.image_size, self.name)
        return np.asarray(self.features.predict_on_batch(images), np.float32)
