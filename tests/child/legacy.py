"""Checks on the pre-restructure fixture tests/fixtures/legacy_a31ce08 (one backend per process)."""

from pathlib import Path

import numpy as np

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "legacy_a31ce08"


def predict_legacy() -> dict:
    """Load run/model.keras; max |output - stored output| per head, and what the model says it is."""
    import keras

    import zoo

    model = zoo.load_model(FIXTURE / "run" / "model.keras", compile=False)
    expected = np.load(FIXTURE / "expected.npz")
    outputs = model.predict(expected["images"], verbose=0)
    return {
        "class": type(model).__name__,
        "backend": keras.backend.backend(),
        "heads": sorted(model.heads),
        "label_space": model.label_space.to_json(),
        "image_size": list(model.image_size),
        "filter": type(model.image_filter).__name__,
        "diff": {k: float(np.max(np.abs(np.asarray(v) - expected[k]))) for k, v in outputs.items()},
    }


def resume_legacy_checkpoint() -> dict:
    """Load the epoch checkpoint with its optimizer; its state, and one more train step runs."""
    import keras

    import zoo

    model = zoo.load_model(FIXTURE / "run" / "checkpoints" / "epoch_0001.keras")
    opt = model.optimizer
    moments = [v for v in opt.variables if np.any(keras.ops.convert_to_numpy(v) != 0)]
    expected = np.load(FIXTURE / "expected.npz")
    x = expected["images"]
    y = {k: expected[k] for k in model.output_names}
    before = int(keras.ops.convert_to_numpy(opt.iterations))
    model.fit(x, y, epochs=1, batch_size=3, verbose=0)
    return {
        "class": type(model).__name__,
        "iterations": [before, int(keras.ops.convert_to_numpy(model.optimizer.iterations))],
        "same_optimizer": model.optimizer is opt,
        "nonzero_state": len(moments),
    }


def build_tiny() -> dict:
    """Register `legacy_tiny` (twice: the second import is a no-op) and build it."""
    import importlib

    import tests.child.legacy_backbone as legacy
    import zoo

    importlib.reload(legacy)
    model = zoo.build(legacy.NAME, tasks={"artist": 3, "year": "regression"}, input_shape=(32, 32, 3))
    return {"listed": legacy.NAME in zoo.list_models(), "class": type(model).__name__,
            "image_size": list(model.image_size)}
