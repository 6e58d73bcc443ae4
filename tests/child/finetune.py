"""Child-process checks of tests/test_finetune.py (torch backend, 32 px)."""


def freeze_then_unfreeze() -> dict:
    """One epoch with the EfficientNet backbone frozen, one unfrozen: what moved, and the
    learning rate on either side of the unfreezing."""
    import keras
    import numpy as np

    import zoo
    from recipes import Recipe
    from zoo.training import finetune
    from zoo.training.loop import compile_model

    keras.utils.set_random_seed(0)
    model = zoo.build("efficientnet_b0", tasks={"artist": 3}, input_shape=(32, 32, 3))
    # accumulate=2: 2 steps, 1 update per epoch; the schedule counts steps (`_iterations`)
    recipe = Recipe(model="efficientnet_b0", epochs=2, freeze_epochs=1, lr=1e-3, schedule="cosine",
                    optimizer="adam", backbone_lr_scale=0.1, accumulate=2)
    net = model.backbone
    x = np.random.default_rng(0).uniform(0, 255, (16, 32, 32, 3)).astype("float32")
    y = {"artist": keras.utils.to_categorical(np.arange(16) % 3, 3)}

    def snap():  # trainable + BN moving statistics
        return [np.array(w) for w in net.weights]

    finetune.freeze_backbone(model, True)
    compile_model(model, recipe, steps_per_epoch=2)
    head0, before = np.array(model.get_layer("artist").weights[0]), snap()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    frozen_same = all(np.array_equal(a, b) for a, b in zip(before, snap(), strict=True))
    head_moved = not np.array_equal(head0, np.array(model.get_layer("artist").weights[0]))
    lr_end_phase1 = float(model.optimizer.learning_rate)
    updates = int(model.optimizer.iterations)
    finetune.freeze_backbone(model, False)
    compile_model(model, recipe, steps_per_epoch=2, previous=model.optimizer)
    lr_start_phase2 = float(model.optimizer.learning_rate)
    moving = [i for i, w in enumerate(net.weights) if "moving_mean" in w.path]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    after = snap()
    return {"frozen_same": frozen_same, "head_moved": head_moved,
            "n_bn": len(moving), "lr1": lr_end_phase1, "lr2": lr_start_phase2,
            "bn_moved": sum(not np.array_equal(before[i], after[i]) for i in moving),
            "optimizer": type(model.optimizer).__name__, "updates": updates}


def layer_decay_step(out: str) -> dict:
    """One Adam step of a ViT-Ti with layer decay: each variable's largest update, and the
    optimizer after a save/load round trip through OUT/m.keras."""
    import keras
    import numpy as np

    import zoo
    from recipes import Recipe
    from zoo.training.loop import compile_model

    keras.utils.set_random_seed(0)
    model = zoo.build("vit_tiny16", tasks={"artist": 3}, input_shape=(32, 32, 3))
    recipe = Recipe(model="vit_tiny16", optimizer="adam", lr=1e-3, schedule="plateau",
                    clipnorm=None, layer_decay=0.8, backbone_lr_scale=0.1)
    compile_model(model, recipe, steps_per_epoch=1)
    x = np.random.default_rng(0).uniform(0, 255, (8, 32, 32, 3)).astype("float32")
    y = {"artist": keras.utils.to_categorical(np.arange(8) % 3, 3)}
    before = {v.path: np.array(v) for v in model.trainable_variables}
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)  # one Adam step: |update| = lr x factor
    step = {v.path: float(np.abs(np.array(v) - before[v.path]).max()) for v in model.trainable_variables}
    model.save(f"{out}/m.keras")
    loaded = zoo.load_model(f"{out}/m.keras")
    return {"step": step, "scales": model.optimizer.lr_scales,
            "loaded": type(loaded.optimizer).__name__,
            "same_scales": loaded.optimizer.lr_scales == model.optimizer.lr_scales,
            "iterations": int(loaded.optimizer.iterations)}


def resume_across_phases(data: str, run: str) -> dict:
    """Train to 1 epoch (frozen), resume to 3 (unfrozen at 2), resume to 4: per stop, the
    checkpoint's phase, schedule offset, optimizer updates and logged vs planned lr."""
    import zoo
    from recipes import Recipe
    from zoo.run_folder import RunFolder
    from zoo.training.loop import make_schedule, train

    recipe = Recipe(model="vit_tiny16", image_size=32, batch_size=16, optimizer="adamw", lr=1e-3,
                    weight_decay=0.05, schedule="cosine", freeze_epochs=2, layer_decay=0.75,
                    augment="none")
    folder, info = RunFolder(run), {}
    for epochs in (1, 3, 4):
        train(recipe.replace(epochs=epochs), backend="torch", data_dir=data, run_dir=run,
              resume=epochs > 1, verbose=0)
        state = folder.read_state()
        model = zoo.load_model(folder.checkpoint_path(state))
        opt = model.optimizer
        want = float(make_schedule(recipe.replace(epochs=epochs), 2)(2 * state.epoch))
        info[epochs] = {"trainable": model.backbone.trainable,
                        "offset": getattr(opt._learning_rate, "offset", None),
                        "iterations": int(opt.iterations), "scales": len(opt.lr_scales),
                        "lr": state.history[-1]["learning_rate"], "want": want}
    return info


def load_run_weights(data: str, other: str, out: str) -> dict:
    """Copy a saved run model's backbone (and matching heads) into models for the same and
    for other labels, and into one of another image size (the error)."""
    import numpy as np

    import zoo
    from data_tools.labels import LabelSpace
    from data_tools.pipeline import load_rows
    from zoo.training import finetune

    def build(folder):
        labels = LabelSpace.from_rows(load_rows(folder))
        return zoo.build("vit_tiny16", tasks=labels, input_shape=(32, 32, 3))

    source = build(data)
    source.save(f"{out}/model.keras")
    same, changed = build(data), build(other)
    kept_same = finetune.load_run_weights(same, f"{out}/model.keras")
    kept_other = finetune.load_run_weights(changed, f"{out}/model.keras")
    equal = all(np.array_equal(a, b) for a, b in zip(source.backbone.get_weights(),
                                                      changed.backbone.get_weights(), strict=True))
    try:
        finetune.load_run_weights(zoo.build("vit_tiny16", input_shape=(64, 64, 3)), f"{out}/model.keras")
        error = None
    except ValueError as exc:
        error = str(exc)
    return {"same": kept_same, "other": kept_other, "equal": equal, "error": error}
