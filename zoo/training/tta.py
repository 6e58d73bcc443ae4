"""Test-time augmentation: a predictor that averages its predictions over image flips."""

import numpy as np

MODES = ("none", "flip")


class FlipTTA:
    """Wrap a predictor (a keras model or a `zoo.inference` Predictor): `predict(images)` is the
    mean of its predictions on `images` `(B, H, W, 3)` and on their left-right mirror, per head
    (class probabilities and regression values alike), as in the fine-tuning papers' evaluation."""

    def __init__(self, predictor):
        self.predictor = predictor
        self.runtime = getattr(predictor, "runtime", None) or _backend()
        # what evaluation reads besides predictions: the Keras model, the calibration record
        self.model = getattr(predictor, "model", predictor)
        self.calibration = getattr(predictor, "calibration", None)

    def _one(self, images):
        if hasattr(self.predictor, "predict_on_batch"):
            return self.predictor.predict_on_batch(images)
        return self.predictor.predict(images)

    def predict(self, images) -> dict:
        images = np.asarray(images)
        plain, mirrored = self._one(images), self._one(np.ascontiguousarray(images[:, :, ::-1]))
        return {k: (np.asarray(plain[k]) + np.asarray(mirrored[k])) / 2 for k in plain}


def wrap(predictor, mode: str):
    """`predictor` for `--tta none`, `FlipTTA(predictor)` for `--tta flip`."""
    if mode not in MODES:
        raise ValueError(f"--tta {mode!r}: valid are {', '.join(MODES)}")
    return FlipTTA(predictor) if mode == "flip" else predictor


def _backend() -> str:
    import keras

    return keras.backend.backend()
