"""Losses for the multi-task head."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class ScaledHuber(keras.losses.Loss):
    """Huber loss on a standardised regression target.

    The year head outputs years; this loss compares `(y - center) / scale` so
    one unit is `scale` years and outliers (mis-dated works) are penalised
    linearly beyond `delta` units. `y_true`, `y_pred`: `(batch, 1)` in years.
    """

    def __init__(self, center: float = 0.0, scale: float = 1.0, delta: float = 1.0, **kwargs):
        kwargs.setdefault("name", "scaled_huber")
        super().__init__(**kwargs)
        self.center, self.scale, self.delta = float(center), float(scale), float(delta)

    def call(self, y_true, y_pred):
        y_true = (ops.cast(y_true, y_pred.dtype) - self.center) / self.scale
        y_pred = (y_pred - self.center) / self.scale
        error = ops.abs(y_true - y_pred)
        quadratic = ops.minimum(error, self.delta)
        return ops.mean(0.5 * quadratic**2 + self.delta * (error - quadratic), axis=-1)

    def get_config(self):
        return {**super().get_config(), "center": self.center, "scale": self.scale, "delta": self.delta}
