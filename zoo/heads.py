"""The shared multi-task head: one `TaskHead` per task of a `data_tools.labels.LabelSpace`.

A classification task gets a softmax over its class names (stored in the model),
a regression task one linear unit with its output in the target's own units.

Regression heads learn a standardised target z and output `z * scale + center`,
so a "year" head outputs years and the scaling lives in the saved model.

Classification heads divide their logits by a `temperature` (1.0 until calibration fits
one, `zoo.training.calibrate`) before the softmax: a plain float in the layer's config, so
the saved model and every export from it are calibrated with no runtime code, the
variables (and `.weights.h5` files) are unchanged, and a model saved before the
temperature existed loads with 1.0.
"""

import keras
from keras import layers, ops

# The seed project's setting: the 50 artists with most works in Art500k, their
# art movements (27 = WikiArt's style classes), and the year of the artwork.
DEFAULT_TASKS = {"artist": 50, "movement": 27, "year": "regression"}


@keras.saving.register_keras_serializable(package="zoo")
class TaskHead(layers.Layer):
    """One task's output layer: `(batch, dim)` features ->
    `(batch, n_classes)` probabilities, or `(batch, 1)` values in target units.

    Runs in float32 even under mixed precision, as Keras advises for outputs.
    """

    def __init__(self, class_names=(), center: float = 0.0, scale: float = 1.0, temperature: float = 1.0,
                 **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.class_names = tuple(class_names)
        self.center = float(center)
        self.scale = float(scale)
        self.temperature = float(temperature)
        units = len(self.class_names) or 1
        self.dense = layers.Dense(units, dtype=self.dtype_policy, name="dense")

    @property
    def is_regression(self) -> bool:
        return not self.class_names

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, features):
        out = self.dense(features)
        if self.is_regression:
            return out * self.scale + self.center
        if self.temperature != 1.0:  # a traced constant: a compiled predict function is remade after a change
            out = out / self.temperature
        return ops.softmax(out, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.class_names) or 1)

    def get_config(self):
        return {
            **super().get_config(),
            "class_names": list(self.class_names),
            "center": self.center,
            "scale": self.scale,
            "temperature": self.temperature,
        }

