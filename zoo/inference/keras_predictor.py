"""A Keras model as a Predictor (this process's backend)."""

import functools

import numpy as np

from data_tools.labels import LabelSpace, Task
from zoo.inference.predictor import checked_images


def label_space_of(model) -> LabelSpace:
    """The model's label space: `model.label_space` (ArtistModel), else read from its heads."""
    if getattr(model, "label_space", None) is not None:
        return model.label_space
    heads = [model.get_layer(name) for name in model.output_names]
    return LabelSpace(tuple(Task(h.name, tuple(h.class_names), h.center, h.scale) for h in heads))


class KerasPredictor:
    """`predict(float32 (B, H, W, 3) 0..255) -> {head: numpy (B, n)}` through
    `model.predict_on_batch`; `.model` is the Keras model."""

    runtime = "keras"
    batch = None

    def __init__(self, model):
        import keras

        self.model = model
        self.name = model.name
        self.image_size = tuple(model.input_shape[1:3])
        self.label_space = label_space_of(model)
        self.backend = keras.backend.backend()

    def predict(self, images) -> dict[str, np.ndarray]:
        images = checked_images(images, self.image_size, self.name)
        out = self.model.predict_on_batch(images)
        return {name: np.asarray(v) for name, v in out.items()}

    @functools.cached_property
    def features(self):
        """The Keras model pixels -> pooled features (`feature_model`), built on first use."""
        return feature_model(self.model)

    def embed(self, images) -> np.ndarray:
        """`(B, H, W, 3)` float32 pixels -> `(B, D)` float32 pooled features (the heads' input)."""
        images = checked_images(images, self.image_size, self.name)
        return np.asarray(self.features.predict_on_batch(images), np.float32)


def feature_model(model):
    """`(B, H, W, 3)` pixels 0..255 -> `(B, D)` features: `model.feature_extractor()`
    (ArtistModel), else the tensor feeding a functional model's task heads."""
    if hasattr(model, "feature_extractor"):
        return model.feature_extractor()
    import keras

    inputs = {id(model.get_layer(name).input) for name in model.output_names}
    if len(inputs) != 1:
        raise ValueError(f"{model.name}: its heads do not share one feature input; cannot embed")
    head_input = model.get_layer(model.output_names[0]).input
    return keras.Model(model.input, head_input, name=f"{model.name}_features")
