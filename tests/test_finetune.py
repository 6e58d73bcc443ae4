"""Fine-tuning: frozen phase, per-variable learning rates, resume across the phases,
starting from an earlier run, and the offline ImageNet error (torch backend, 32 px)."""

import json

import pytest

from tests.conftest import run_child, run_cli, synth_data


def test_freeze_then_unfreeze_keeps_backbone_and_bn_statistics(tiny_data):
    out = run_child("torch", "finetune:freeze_then_unfreeze")
    assert out["frozen_same"] and out["head_moved"] and out["updates"] == 1
    assert out["n_bn"] > 10 and out["bn_moved"] == out["n_bn"]  # unfrozen: BN statistics update
    assert out["lr2"] == pytest.approx(out["lr1"], rel=1e-6)  # the schedule continues, in steps
    assert out["optimizer"] == "ScaledAdam"


def test_layer_decay_scales_updates_and_survives_saving(tmp_path):
    out = run_child("torch", "finetune:layer_decay_step", out=str(tmp_path))
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
    out = run_child("torch", "finetune:resume_across_phases", data=str(tiny_data), run=str(tmp_path / "run"))
    e1, e3, e4 = out["1"], out["3"], out["4"]
    assert not e1["trainable"] and e1["offset"] is None
    # resumed in the frozen phase: epoch 2 still frozen (2 x 2 steps), then unfrozen at epoch 3
    assert e3["trainable"] and e3["offset"] == 4 and e3["iterations"] == 2 and e3["scales"] > 100
    assert e4["trainable"] and e4["offset"] == 4 and e4["iterations"] == 4  # resumed after the freeze
    for e in (e1, e3, e4):  # the learning rate logged = the schedule at the global step
        assert e["lr"] == pytest.approx(e["want"], rel=1e-5, abs=1e-9)


def test_weights_from_run_replaces_heads_with_other_labels(tiny_data, tmp_path):
    other = synth_data(tmp_path / "other", 3, 6, "--seed", "5")
    out = run_child("torch", "finetune:load_run_weights", data=str(tiny_data), other=str(other),
                    out=str(tmp_path))
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


@pytest.mark.slow  # ~1 h on 2 CPU cores
def test_transfer_check_passes_with_a_dinov2_backbone(tmp_path):
    proc = run_cli(["-m", "zoo", "transfer-check", "--model", "dinov2_tiny14", "--backend", "torch",
                    "--out", str(tmp_path)], backend="torch", timeout=7200)
    summary = json.loads((tmp_path / "transfer.json").read_text())
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert summary["finetune_top1"] >= summary["scratch_top1"] + 0.15


def test_transfer_check_pretrains_dinov2_on_more_artists():
    """DINOv2's features from 12 artists cap the check below its margin (README); the rest keep 12."""
    from zoo.study.transfer import source_artists

    assert source_artists("dinov2_tiny14") == source_artists("dinov2_small14") == 24
    assert source_artists("vit_tiny16") == 12 and source_artists("resnet50") == 12


def test_transfer_check_refuses_an_out_made_with_other_settings(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps({"epochs": 99}))  # an earlier check's record
    proc = run_cli(["-m", "zoo", "transfer-check", "--backend", "torch", "--out", str(tmp_path)], backend="torch")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "other settings" in proc.stderr and "epochs" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]  # nothing built or trained


def test_finetune_recipes_load():
    import recipes
    from zoo import registry

    for name in ("finetune_resnet", "finetune_convnext", "finetune_vit", "seed_resnet50"):
        recipe = recipes.load(name)
        assert recipe.weights == "imagenet"
    assert recipes.load("finetune_vit").layer_decay < 1 and recipes.load("finetune_convnext").layer_decay < 1
    # ConvNeXt has its own default (it used to fall back to the ResNet one), random init offline
    assert registry.get("convnext_small").default_recipe == "convnext"
    assert registry.get("resnet101").default_recipe == "resnet"
    assert recipes.load("convnext").model.startswith("convnext") and recipes.load("convnext").weights is None
