"""The model contract, checked for every `zoo.list_models()` entry (tests/test_contract.py)."""

import time
from pathlib import Path

import numpy as np

TASKS = {"artist": 3, "movement": 2, "year": "regression"}
# Saved and loaded as a full .keras file: the smallest model of each family. Saving the
# large ones (up to 300M parameters, vit_large16) costs minutes of disk writes and
# checks no code path the small ones do not: same family file, same layers.
ROUND_TRIP = ("resnet50", "efficientnet_b0", "efficientnetv2_b0", "convnext_tiny", "vit_tiny16",
              "dinov2_tiny14", "clip_base16", "siglip_base16")
# keras-hub families: the default suite checks the ROUND_TRIP model of each, the slow one the rest.
HUB_FAMILIES = ("dinov2", "clip", "siglip")


def check_models(names: list[str], out: str) -> dict:
    """Per model of `names`: output shapes, layer-depth facts, save/load difference, seconds."""
    import keras

    import zoo
    from zoo import registry
    from zoo.models import layer_depth

    report = {}
    for name in names:
        start = time.perf_counter()
        patch = registry.input_rule(name)[1]
        side = -(-max(registry.get(name).min_size, 32) // patch) * patch  # >= 32, a multiple of the patch
        model = zoo.build(name, tasks=TASKS, input_shape=(side, side, 3), dropout=0.0)
        images = np.random.default_rng(0).uniform(0, 255, (1, side, side, 3)).astype("float32")
        outputs = {k: keras.ops.convert_to_numpy(v) for k, v in model(images).items()}
        depth = layer_depth(model)
        heads = [v.path for h in model.heads.values() for v in h.weights]
        row = {
            "class": type(model).__name__,
            "shapes": {k: list(v.shape) for k, v in outputs.items()},
            "all_depths": sorted(depth) == sorted(v.path for v in model.weights),
            "min_depth": min(depth.values()),
            "top": max(depth.values()),
            "heads_at_top": all(depth[p] == max(depth.values()) for p in heads),
            "backbone_below_top": any(depth[v.path] < max(depth.values()) for v in model.backbone.weights),
        }
        if name in ROUND_TRIP:
            path = Path(out) / f"{name}.keras"
            model.save(path)
            back = zoo.load_model(path)
            again = back(images)
            row["loaded_class"] = type(back).__name__
            row["loaded_diff"] = max(float(np.max(np.abs(keras.ops.convert_to_numpy(again[k]) - v)))
                                     for k, v in outputs.items())
            row["loaded_labels"] = back.label_space == model.label_space
            del back
        row["seconds"] = round(time.perf_counter() - start, 2)
        report[name] = row
        del model
    return report
