"""The README's ```python blocks, run as a user runs them (tests/test_readme.py).

Nothing heavy is imported before the blocks: their first line chooses the backend
(`os.environ["KERAS_BACKEND"]`), which must come before keras loads.
"""

import os

import numpy as np


def run_blocks(blocks: list[str], workdir: str, n: int = 2) -> dict:
    """Exec `blocks` in order in one namespace inside `workdir` (files they write land there).

    Stand-in: `images`, which the README leaves to the reader, is `(n, 128, 128, 3)` float32
    random pixels 0-255. Returns the backend Keras runs on, the shapes of `out` (the
    model's prediction) and of `predictor.predict(images)`, `features`' output shape and
    the files written.
    """
    os.chdir(workdir)
    images = np.random.default_rng(0).uniform(0, 255, (n, 128, 128, 3)).astype("float32")
    namespace = {"__name__": "__readme__", "images": images}
    for i, block in enumerate(blocks):
        exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)  # noqa: S102
    import keras

    shapes = lambda d: {k: list(np.shape(v)) for k, v in d.items()}  # noqa: E731
    return {"backend": keras.backend.backend(), "out": shapes(namespace["out"]),
            "predicted": shapes(namespace["predictor"].predict(images)),
            "features": list(namespace["features"].output_shape), "files": sorted(os.listdir(workdir))}
