"""Study checks run on another backend (tests/test_study.py)."""


def perturbed_loss(model_file: str, out: str) -> dict:
    """Save `model_file` with one Conv2D kernel scaled by 1.01 into `out`, then compute its
    agreement losses there (`loss-<backend>.json`) as the agreement check's child does."""
    import keras

    import zoo
    from zoo.study import agreement

    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    model = zoo.load_model(model_file, compile=False)
    conv = next(layer for layer in model.backbone._flatten_layers() if isinstance(layer, keras.layers.Conv2D))
    conv.kernel.assign(conv.kernel * 1.01)
    model.save(f"{out}/model.keras")
    agreement.loss_step(out, "compare_quick")
    return {}
