"""An ArtistModel's outputs together with its pooled features, and the heads' logits from them
(for the energy score and exact temperature fits)."""

import keras
import numpy as np

FEATURES = "features"  # the extra output of `with_features`


def with_features(model) -> keras.Model:
    """A model sharing `model`'s layers: pixels -> {head: output, "features": (B, dim)} (the
    heads' input, dropout being the identity at inference)."""
    extractor = model.feature_extractor()
    features = extractor.output
    outputs = {name: head(features) for name, head in model.heads.items()}
    return keras.Model(extractor.input, {**outputs, FEATURES: features}, name=f"{model.name}_with_features")


def head_logits(model, features) -> dict[str, np.ndarray]:
    """`{class head: (n, K) logits before the temperature}` from pooled `features (n, dim)`."""
    features = np.asarray(features, np.float64)
    out = {}
    for name, head in model.heads.items():
        if not head.is_regression:
            kernel, bias = (np.asarray(keras.ops.convert_to_numpy(w), np.float64) for w in head.dense.weights)
            out[name] = features @ kernel + bias
    return out
