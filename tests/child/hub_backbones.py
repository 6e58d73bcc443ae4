"""Zoo side of tests/test_hub_backbones.py: keras-hub backbones built from transformers folders.

Inputs are what `tests.child.hub_reference.save` wrote; outputs are max absolute
differences of the pooled features `(2, width)` against transformers' `pooler_output`.
"""

from pathlib import Path

import numpy as np

from tests.child.hub_reference import CASES


def compare(root: str, cases: list[str], make: bool = False) -> dict:
    """{case: max |zoo - transformers|} on this process's backend; `make`: save first (torch)."""
    import zoo

    if make:
        from tests.child.hub_reference import save

        save(root, cases)
    out = {}
    for case in cases:
        name, kind, _, size, _ = CASES[case]
        ref = np.load(Path(root) / f"{case}.npz")
        net = zoo.backbone(name, input_shape=(size, size, 3), weights=str(Path(root) / kind))
        got = np.asarray(net.predict(ref["images"], verbose=0), dtype=np.float32)
        out[case] = float(np.abs(got - ref["pooled"]).max())
    return out


def family_contract(name: str, size: int, path: str) -> dict:
    """Build `name` (random init) at `size` px with two heads: layer depths, freezing, the
    features `(2, width)` and a saved `.keras` at `path` (predictions kept beside it)."""
    import keras

    import zoo
    from zoo.models import layer_depth

    model = zoo.build(name, input_shape=(size, size, 3), tasks={"artist": ["a", "b", "c"], "year": "regression"})
    depths = layer_depth(model)
    heads = {v.path for h in model.heads.values() for v in h.weights}
    model.backbone.trainable = False
    frozen = {v.path for v in model.trainable_weights}
    model.backbone.trainable = True
    images = np.random.default_rng(0).uniform(0, 255, (2, size, size, 3)).astype(np.float32)
    out = model.predict(images, verbose=0)
    model.save(path)
    np.save(path + ".npy", out["artist"])
    return {"min_depth": min(depths.values()), "head_depth": {depths[p] for p in heads} == {max(depths.values())},
            "n_depths": len(set(depths.values())), "frozen_is_heads": frozen == heads,
            "features": list(model.feature_extractor().predict(images, verbose=0).shape),
            "backend": keras.backend.backend()}


def reload(path: str, size: int) -> dict:
    """Max |delta| of the reloaded model's artist probabilities against `family_contract`'s."""
    import zoo

    model = zoo.load_model(path)
    images = np.random.default_rng(0).uniform(0, 255, (2, size, size, 3)).astype(np.float32)
    return {"diff": float(np.abs(model.predict(images, verbose=0)["artist"] - np.load(path + ".npy")).max())}
