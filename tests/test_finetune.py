"""Fine-tuning: frozen phase, per-variable learning rates, resume across the phases,
starting from an earlier run, and the offline ImageNet error (torch backend, 32 px)."""

import json

import pytest
from conftest import run_cli, run_on_backend, synth_data


def test_freeze_then_unfreeze_keeps_backbone_and_bn_statistics(tiny_data):
    out = run_on_backend("torch", """
        import json
        import numpy as np, keras, zoo
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
        snap = lambda: [np.array(w) for w in net.weights]   # trainable + BN moving statistics
        finetune.freeze_backbone(model, True)
        compile_model(model, recipe, steps_per_epoch=2)
        head0, before = np.array(model.get_layer("artist").weights[0]), snap()
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        frozen_same = all(np.array_equal(a, b) for a, b in zip(before, snap()))
        head_moved = not np.array_equal(head0, np.array(model.get_layer("artist").weights[0]))
        lr_end_phase1 = float(model.optimizer.learning_rate)
        updates = int(model.optimizer.iterations)
        finetune.freeze_backbone(model, False)
        compile_model(model, recipe, steps_per_epoch=2, previous=model.optimizer)
        lr_start_phase2 = float(model.optimizer.learning_rate)
        moving = [i for i, w in enumerate(net.weights) if "moving_mean" in w.path]
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        after = snap()
        print(json.dumps({"frozen_same": frozen_same, "head_moved": head_moved,
                          "n_bn": len(moving), "lr1": lr_end_phase1, "lr2": lr_start_phase2,
                          "bn_moved": sum(not np.array_equal(before[i], after[i]) for i in moving),
                          "optimizer": type(model.optimizer).__name__, "updates": updates}))
    """)
    assert out["frozen_same"] and out["head_moved"] and out["updates"] == 1
    assert out["n_bn"] > 10 and out["bn_moved"] == out["n_bn"]  # unfrozen: BN statistics update
    assert out["lr2"] == pytest.approx(out["lr1"], rel=1e-6)  # the schedule continues, in steps
    assert out["optimizer"] == "ScaledAdam"


def test_layer_decay_scales_updates_and_survives_saving(tmp_path):
    out = run_on_backend("torch", f"""
        import json
        import numpy as np, keras, zoo
        from recipes import Recipe
        from zoo.training import finetune
        from zoo.training.loop import compile_model

        keras.utils.set_random_seed(0)
        model = zoo.build("vit_tiny16", tasks={{"artist": 3}}, input_shape=(32, 32, 3))
        recipe = Recipe(model="vit_tiny16", optimizer="adam", lr=1e-3, schedule="plateau",
                        clipnorm=None, layer_decay=0.8, backbone_lr_scale=0.1)
        compile_model(model, recipe, steps_per_epoch=1)
        x = np.random.default_rng(0).uniform(0, 255, (8, 32, 32, 3)).astype("float32")
        y = {{"artist": keras.utils.to_categorical(np.arange(8) % 3, 3)}}
        before = {{v.path: np.array(v) for v in model.trainable_variables}}
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)   # one Adam step: |update| = lr x factor
        step = {{v.path: float(np.abs(np.array(v) - before[v.path]).max()) for v in model.trainable_variables}}
        model.save("{tmp_path}/m.keras")
        loaded = zoo.load_model("{tmp_path}/m.keras")
        print(json.dumps({{"step": step, "scales": model.optimizer.lr_scales,
                          "loaded": type(loaded.optimizer).__name__,
                          "same_scales": loaded.optimizer.lr_scales == model.optimizer.lr_scales,
                          "iterations": int(loaded.optimizer.iterations)}}))
    """)
    step, lr = out["step"], 1e-3
    assert step["artist/dense/kernel"] == pytest.approx(lr, rel=1e-2)
    # ViT-Ti: 12 blocks; block i sits at depth i+1 of L+1 = 13 -> lr x 0.1 x 0.8^(12 - i)
    assert step["block11_mlp_fc1/kernel"] == pytest.approx(lr * 0.1 * 0.8, rel=1e-2)
    assert step["block3_mlp_fc1/kernel"] == pytest.approx(lr * 0.1 * 0.8**9, rel=1e-2)
    assert step["patch_embed/kernel"] == pytest.approx(lr * 0.1 * 0.8**13, rel=1e-2)
    assert out["loaded"] == "ScaledAdam" and out["same_scales"] and out["iterations"] == 1


@pytest.mark.slow  # three short runs: ~230 s on a loaded 2-core machine
def test_resume_in_frozen_phase_and_after(tiny_data, tmp_path):
    """Killed after epoch 1 (frozen) and after epoch 3 (unfrozen): each resume picks the right
    phase and continues the learning-rate schedule at the global step."""
    out = run_on_backend("torch", f"""
        import json
        import numpy as np, keras, zoo
        from recipes import Recipe
        from zoo.training import finetune
        from zoo.training.loop import make_schedule, train

        recipe = Recipe(model="vit_tiny16", image_size=32, batch_size=16, optimizer="adamw", lr=1e-3,
                        weight_decay=0.05, schedule="cosine", freeze_epochs=2, layer_decay=0.75,
                        augment="none")
        run, info = "{tmp_path}/run", {{}}
        for epochs in (1, 3, 4):
            train(recipe.replace(epochs=epochs), backend="torch", data_dir="{tiny_data}", run_dir=run,
                  resume=epochs > 1, verbose=0)
            state = json.load(open(run + "/checkpoints/state.json"))
            model = zoo.load_model(run + "/checkpoints/" + state["checkpoint"])
            opt = model.optimizer
            want = float(make_schedule(recipe.replace(epochs=epochs), 2)(2 * state["epoch"]))
            info[epochs] = {{"trainable": model.backbone.trainable,
                            "offset": getattr(opt._learning_rate, "offset", None),
                            "iterations": int(opt.iterations), "scales": len(opt.lr_scales),
                            "lr": state["history"][-1]["learning_rate"], "want": want}}
        print(json.dumps(info))
    """)
    e1, e3, e4 = out["1"], out["3"], out["4"]
    assert not e1["trainable"] and e1["offset"] is None
    # resumed in the frozen phase: epoch 2 still frozen (2 x 2 steps), then unfrozen at epoch 3
    assert e3["trainable"] and e3["offset"] == 4 and e3["iterations"] == 2 and e3["scales"] > 100
    assert e4["trainable"] and e4["offset"] == 4 and e4["iterations"] == 4  # resumed after the freeze
    for e in (e1, e3, e4):  # the learning rate logged = the schedule at the global step
        assert e["lr"] == pytest.approx(e["want"], rel=1e-5, abs=1e-9)


def test_weights_from_run_replaces_heads_with_other_labels(tiny_data, tmp_path):
    other = synth_data(tmp_path / "other", 3, 6, "--seed", "5")
    out = run_on_backend("torch", f"""
        import json
        import numpy as np, zoo
        from data_tools.labels import LabelSpace
        from data_tools.pipeline import load_rows
        from zoo.training import finetune

        def build(data):
            labels = LabelSpace.from_rows(load_rows(data))
            return zoo.build("vit_tiny16", tasks=labels, input_shape=(32, 32, 3))
        source = build("{tiny_data}")
        source.save("{tmp_path}/model.keras")
        same, other = build("{tiny_data}"), build("{other}")
        kept_same = finetune.load_run_weights(same, "{tmp_path}/model.keras")
        kept_other = finetune.load_run_weights(other, "{tmp_path}/model.keras")
        equal = all(np.array_equal(a, b) for a, b in zip(source.backbone.get_weights(),
                                                          other.backbone.get_weights()))
        try:
            finetune.load_run_weights(zoo.build("vit_tiny16", input_shape=(64, 64, 3)),
                                      "{tmp_path}/model.keras")
            error = None
        except ValueError as exc:
            error = str(exc)
        print(json.dumps({{"same": kept_same, "other": kept_other, "equal": equal, "error": error}}))
    """)
    assert sorted(out["same"]) == ["artist", "movement", "year"]
    assert out["other"] == [] and out["equal"]  # backbone copied, every head fresh
    assert "cls_position/position" in out["error"] and "--image-size" in out["error"]


def test_offline_imagenet_is_one_line_before_data_is_read(tmp_path):
    bad = tmp_path / "data"
    bad.mkdir()
    (bad / "manifest.csv").write_text("not,a,manifest\n")  # reading it would fail differently
    proc = run_cli(["-m", "zoo", "train", "--backend", "torch", "--data", str(bad), "--model", "resnet50",
                    "--weights", "imagenet", "--out", str(tmp_path / "run")], backend="torch",
                   KERAS_HOME=str(tmp_path / "keras"),  # no cached weights
                   HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")  # offline
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --weights imagenet"), proc.stderr
    assert "--weights none" in lines[0] and "--weights FILE" in lines[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_transfer_check_fine_tuning_beats_scratch(tmp_path):
    proc = run_cli(["-m", "zoo", "transfer-check", "--backend", "torch", "--seed", "1", "--out", str(tmp_path)],
                   backend="torch", timeout=1800)
    summary = json.loads((tmp_path / "transfer.json").read_text())
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert len(summary["episodes"]) == 3 and summary["finetune_top1"] >= summary["scratch_top1"] + 0.15


def test_transfer_check_refuses_an_out_made_with_other_settings(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps({"epochs": 99}))  # an earlier check's record
    proc = run_cli(["-m", "zoo", "transfer-check", "--backend", "torch", "--out", str(tmp_path)], backend="torch")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "other settings" in proc.stderr and "epochs" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]  # nothing built or trained


def test_finetune_recipes_load():
    import recipes

    for name in ("finetune_resnet", "finetune_convnext", "finetune_vit", "seed_resnet50"):
        recipe = recipes.load(name)
        assert recipe.weights == "imagenet"
    assert recipes.load("finetune_vit").layer_decay < 1 and recipes.load("finetune_convnext").layer_decay < 1
    # ConvNeXt has its own default (it used to fall back to the ResNet one), random init offline
    assert recipes.default_for("convnext_small") == "convnext" and recipes.default_for("resnet101") == "resnet"
    assert recipes.load("convnext").model.startswith("convnext") and recipes.load("convnext").weights is None
