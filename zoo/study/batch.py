"""One random batch for the study's measurements (bench, numeric agreement)."""

import numpy as np


def random_batch(n: int, size: int, tasks: dict, seed: int = 0):
    """Pixels `(n, size, size, 3)` uniform in 0..255 and a target per head of `tasks`
    (name -> class count or "regression", as `zoo.build` takes them): one-hot `(n, k)`
    for a class head, `(n, 1)` ~ N(1850, 50) years for a regression head."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, (n, size, size, 3)).astype("float32")
    targets = {}
    for name, kind in tasks.items():
        if kind == "regression":
            targets[name] = rng.normal(1850, 50, (n, 1)).astype("float32")
        else:
            targets[name] = np.eye(kind, dtype="float32")[rng.integers(0, kind, n)]
    return images, targets
