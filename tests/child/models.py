"""Model-zoo checks run on one backend per process (tests/test_zoo.py)."""


import numpy as np

TASKS = {"artist": 7, "movement": ["Baroque", "Cubism", "Impressionism"], "year": "regression"}
SAVED = ("resnet50", "vit_tiny16")


def forward_every_family() -> dict:
    """Per family's smallest model at 64 px: head keys, shapes, probability sums, finite years."""
    import keras

    import zoo

    x = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    report = {}
    for name in ["resnet50", "efficientnet_b0", "efficientnetv2_b0", "vit_tiny16"]:
        model = zoo.build(name, tasks=TASKS, input_shape=(64, 64, 3))
        out = {k: keras.ops.convert_to_numpy(v) for k, v in model(x, training=False).items()}
        report[name] = {
            "keys": sorted(out),
            "shapes": {k: list(v.shape) for k, v in out.items()},
            "artist_sum": out["artist"].sum(-1).tolist(),
            "movement_sum": out["movement"].sum(-1).tolist(),
            "year_finite": bool(np.isfinite(out["year"]).all()),
        }
    return report


def parameter_counts() -> dict:
    """Backbone parameter counts at 224 px."""
    import zoo

    names = ["resnet50", "resnet152", "efficientnet_b0", "vit_tiny16", "vit_small16", "vit_base16"]
    return {n: zoo.backbone(n, input_shape=(224, 224, 3)).count_params() for n in names}


def save_models(out: str) -> dict:
    """Save `SAVED` models (3 named artists, a year head scaled (1700, 50)) with their outputs."""
    import zoo

    x = np.random.default_rng(1).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    np.save(f"{out}/x.npy", x)
    for name in SAVED:
        model = zoo.build(name, tasks={"artist": ["a", "b", "c"], "year": "regression"},
                          input_shape=(32, 32, 3), target_scaling={"year": (1700.0, 50.0)})
        model.save(f"{out}/{name}.keras")
        preds = {k: np.asarray(v) for k, v in model(x, training=False).items()}
        np.savez(f"{out}/{name}.npz", **preds)
    return {"ok": True}


def load_models(out: str) -> dict:
    """Load what `save_models` wrote; output differences and the stored labels."""
    import keras

    import zoo

    x = np.load(f"{out}/x.npy")
    report = {}
    for name in SAVED:
        model = zoo.load_model(f"{out}/{name}.keras")
        ref = np.load(f"{out}/{name}.npz")
        preds = {k: keras.ops.convert_to_numpy(v) for k, v in model(x, training=False).items()}
        report[name] = {
            "artist_diff": float(np.abs(preds["artist"] - ref["artist"]).max()),
            "year_diff": float(np.abs(preds["year"] - ref["year"]).max()),
            "class_names": list(model.heads["artist"].class_names),
            "year_center": model.heads["year"].center,
            "label_space": model.label_space.to_json(),
        }
    return report


def applications_weights(out: str) -> dict:
    """A keras.applications ResNet50 weights file loaded into the zoo backbone: feature differences."""
    import keras

    import zoo

    app = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(64, 64, 3))
    path = f"{out}/resnet50_notop.weights.h5"
    app.save_weights(path)
    x = np.random.default_rng(2).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    pre = keras.applications.resnet50.preprocess_input(x.copy())
    expected = keras.ops.convert_to_numpy(app(pre, training=False)).mean(axis=(1, 2))
    net = zoo.backbone("resnet50", input_shape=(64, 64, 3), weights=path)
    got = keras.ops.convert_to_numpy(net(x, training=False))
    fresh = keras.ops.convert_to_numpy(zoo.backbone("resnet50", input_shape=(64, 64, 3))(x, training=False))
    return {"diff": float(np.abs(got - expected).max()),
            "fresh_diff": float(np.abs(fresh - expected).max()),
            "scale": float(np.abs(expected).max())}


def convnext(out: str, sizes: list[str]) -> dict:
    """zoo ConvNeXt Tiny vs keras.applications (weights file, counts per size), its layer
    depths, and what weights="imagenet" does (offline: one-line error)."""
    import keras

    import zoo
    from zoo.models import layer_depth

    app = keras.applications.ConvNeXtTiny(include_top=False, weights=None, input_shape=(32, 32, 3),
                                          pooling="avg")
    path = f"{out}/convnext_tiny_notop.weights.h5"
    app.save_weights(path)
    x = np.random.default_rng(3).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    expected = keras.ops.convert_to_numpy(app(x, training=False))  # raw pixels: it normalises itself
    net = zoo.backbone("convnext_tiny", input_shape=(32, 32, 3), weights=path)
    fresh = zoo.backbone("convnext_tiny", input_shape=(32, 32, 3))
    counts = {}
    for size in sizes:
        make = getattr(keras.applications, "ConvNeXt" + size.capitalize())
        counts[size] = [zoo.backbone("convnext_" + size, input_shape=(224, 224, 3)).count_params(),
                        make(include_top=False, weights=None, input_shape=(224, 224, 3),
                             pooling="avg").count_params()]
    depth = layer_depth(zoo.build("convnext_tiny", input_shape=(32, 32, 3), tasks={"artist": 3}))
    try:
        zoo.backbone("convnext_tiny", input_shape=(32, 32, 3), weights="imagenet")
        offline = "downloaded"
    except ValueError as e:
        offline = str(e)
    wanted = ("block_0_depthwise_conv/kernel", "stem_conv/kernel", "stage_2_block_8_depthwise_conv/kernel")
    return {
        "diff": float(np.abs(keras.ops.convert_to_numpy(net(x, training=False)) - expected).max()),
        "fresh_diff": float(np.abs(keras.ops.convert_to_numpy(fresh(x, training=False)) - expected).max()),
        "scale": float(np.abs(expected).max()), "features": net.output_shape[-1], "counts": counts,
        "preprocess": net.get_layer("preprocess").mode, "offline": offline,
        "depth": {k: v for k, v in depth.items() if any(w in k for w in wanted)
                  or "downsampling_conv" in k and k.endswith("kernel") or k.startswith("artist/")},
    }


def load_lambda_model(out: str) -> dict:
    """Save a model carrying a Lambda and load it with `zoo.load_model`: the verdict."""
    import keras

    import zoo

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    model.save(f"{out}/lambda.keras")
    try:
        zoo.load_model(f"{out}/lambda.keras")
        verdict = "loaded"
    except ValueError as e:
        verdict = str(e)
    return {"verdict": verdict}


