"""The comparative study: FLOP counter, compare leaderboard (ok + failed cell, re-run
skips), numeric agreement between backends, bench JSON, and the one-line errors."""

import argparse
import csv
import json
import shutil

import keras
import pytest

import zoo
from tests.conftest import run_child, run_cli
from zoo import registry
from zoo.cli import UsageError
from zoo.cli import run as cli_run
from zoo.heads import DEFAULT_TASKS
from zoo.study import agreement, leaderboard
from zoo.training.flops import count_flops


def test_flops_exact_on_small_conv_model():
    x = keras.Input((8, 8, 3))
    y = keras.layers.Conv2D(4, 3, padding="same")(x)  # 8*8*4 outputs x 3*3*3 MACs = 6912
    y = keras.layers.DepthwiseConv2D(3, padding="same")(y)  # 8*8*4 x 3*3 = 2304
    y = keras.layers.Dense(10)(keras.layers.Flatten()(y))  # 256 x 10 = 2560
    assert count_flops(keras.Model(x, y)) == 2 * (6912 + 2304 + 2560)


def test_flops_exact_on_attention():
    x = keras.Input((5, 8))  # 5 tokens of width 8; 2 heads of key_dim 4
    y = keras.layers.MultiHeadAttention(2, 4)(x, x)
    projections = 5 * 8 * 8 * 3  # q, k, v: 5 tokens x 8 in x (2 heads x 4)
    attention = 2 * 5 * 5 * 4 * 2  # scores and weighted values
    output = 5 * 8 * 8
    assert count_flops(keras.Model(x, y)) == 2 * (projections + attention + output)


def test_flops_match_published_figures():
    resnet = keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3))
    assert 3.84e9 < count_flops(resnet) / 2 < 3.88e9  # 3.86 GMACs (original ResNet50)
    vit = zoo.build("vit_small16", input_shape=(224, 224, 3))
    assert 4.55e9 < count_flops(vit) / 2 < 4.65e9  # timm vit_small_patch16_224: 4.6 GMACs


def test_application_names_exist_for_cnn_families():
    assert registry.get("resnet152").application is keras.applications.ResNet152
    assert registry.get("efficientnetv2_s").application is keras.applications.EfficientNetV2S
    assert registry.get("vit_small16").application is None
    assert registry.get("convnext_tiny").application is keras.applications.ConvNeXtTiny
    for name in zoo.list_models():  # the zoo's own ViT and the keras-hub encoders have none
        if registry.get(name).family not in ("vit", "dinov2", "clip", "siglip"):
            assert registry.get(name).application is not None, name


def _read_csv(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def test_compare_records_failed_cell_and_skips_finished_on_rerun(tiny_data, tmp_path):
    out = tmp_path / "compare"
    # resnet50 rejects 16 px images, so its initial weights cannot be built and its cell fails;
    # vit_tiny16 trains (one seed: the interval arithmetic is tests/test_study_seeds.py's).
    args = ["-m", "zoo", "compare", "--models", "vit_tiny16,resnet50", "--backends", "torch",
            "--data", str(tiny_data), "--image-size", "16", "--epochs", "1", "--out", str(out),
            "--no-agreement", "--seeds", "1"]
    first = run_cli(args)
    assert first.returncode == 1, first.stderr[-3000:]  # a failed cell makes the exit non-zero
    columns, rows = _read_csv(out / "leaderboard.csv")
    assert tuple(columns) == leaderboard.COLUMNS
    by_model = {r["model"]: r for r in rows}
    assert set(by_model) == {"vit_tiny16", "resnet50"}
    ok, failed = by_model["vit_tiny16"], by_model["resnet50"]
    assert ok["status"] == "ok" and ok["backend"] == "torch" and ok["seeds"] == "0"
    assert int(ok["params"]) > 5e6 and float(ok["gflops"]) > 0
    assert 0 <= float(ok["artist_top1"]) <= 1 and float(ok["peak_rss_mb"]) > 100
    assert failed["status"].startswith("failed:") and "image size" in failed["status"]
    assert rows[0]["model"] == "vit_tiny16"  # sorted by artist_top1, failed cells last
    assert "| vit_tiny16 | torch | 0 |" in (out / "leaderboard.md").read_text()
    # Where the time went: phases inside train() within the cell's wall time, start-up the rest.
    cell = json.loads((out / "cells" / "vit_tiny16-torch-s0" / "result.json").read_text())
    split = leaderboard.time_split(cell)
    assert split["first_step"] > 0 and split["train_steps"] > 0 and split["startup"] > 1
    assert sum(cell["phases_s"].values()) == pytest.approx(cell["total_s"], abs=0.01)
    assert cell["total_s"] < cell["wall_s"]
    history = (out / "cells" / "vit_tiny16-torch-s0" / "history.csv").read_text()
    assert "loss" in history and "val_loss" not in history  # compare_quick: one epoch, no validation pass
    assert "| vit_tiny16 / torch / s0 |" in (out / "leaderboard.md").read_text().split("Where the time goes")[1]
    assert (out / "leaderboard.png").stat().st_size > 10_000

    result = out / "cells" / "vit_tiny16-torch-s0" / "result.json"
    before = result.stat().st_mtime_ns
    second = run_cli(args)
    assert second.returncode == 1
    assert "skipped" in second.stdout and result.stat().st_mtime_ns == before
    assert len(_read_csv(out / "leaderboard.csv")[1]) == 2

    with pytest.raises(UsageError, match="other settings"):
        cli_run(["compare", "--models", "vit_tiny16", "--backends", "torch", "--data", str(tiny_data),
                 "--image-size", "16", "--epochs", "2", "--out", str(out)])


@pytest.mark.slow  # keeps `make test` within 13 min; `make test-all` runs it
def test_agreement_fails_when_one_backend_disagrees(tmp_path):
    """vit_tiny16 at 32 px agrees on jax and torch (spread 1.9e-7); one conv kernel scaled by
    1.01 in torch's copy moves the loss by ~1.2e-4 and fails (by 1.001: 1.2e-5)."""
    report = agreement.check("vit_tiny16", 32, ["jax", "torch"], tmp_path / "ok", recipe="compare_quick")
    assert "error" not in report, report.get("error")
    assert set(report["losses"]) == {"jax", "torch"} and report["built_on"] == "jax"
    assert all(0 < v[k] < 100 for v in report["losses"].values() for k in agreement.KINDS)
    assert report["passed"] and report["rel_diff"]["first_step_loss"] < agreement.TOLERANCE / 10  # margin
    assert report["rel_diff"]["eval_loss"] < agreement.TOLERANCE / 10  # no BatchNorm in a ViT
    text = leaderboard.agreement_markdown(report)
    assert "PASS" in text and "| torch |" in text
    bad = tmp_path / "perturbed"
    bad.mkdir()
    shutil.copy(tmp_path / "ok" / "batch.npz", bad)
    run_child("torch", "study:perturbed_loss", model_file=str(tmp_path / "ok" / "model.keras"), out=str(bad))
    losses = {"jax": report["losses"]["jax"], "torch": json.loads((bad / "loss-torch.json").read_text())}
    assert agreement.relative_difference(losses, "first_step_loss") > 3 * agreement.TOLERANCE


def test_relative_difference_flags_a_disagreeing_backend():
    losses = {"jax": {"eval_loss": 2.0, "first_step_loss": 2.0},
              "torch": {"eval_loss": 2.0, "first_step_loss": 2.002}}
    assert agreement.relative_difference(losses, "first_step_loss") == pytest.approx(0.002 / 2.001)
    assert agreement.relative_difference(losses, "eval_loss") == 0


@pytest.mark.slow  # ~45 s of training steps; keeps the default suite within 13 min (make test-all runs it)
def test_bench_writes_json_and_table(tmp_path):
    out = tmp_path / "bench.json"
    proc = run_cli(["-m", "zoo", "bench", "--models", "efficientnet_b0", "--backends", "torch",
                    "--image-size", "32", "--steps", "2", "--warmup", "0", "--precision", "float32",
                    "--applications", "--runtimes", "none", "--out", str(out)], backend="torch")
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["settings"]["image_size"] == [32] and report["settings"]["steps"] == 2
    rows = {row["impl"]: row for row in report["results"]}
    assert set(rows) == {"zoo", "keras.applications"}
    for row in rows.values():
        assert row["status"] == "ok"
        for key in ("train_img_s", "infer_img_s", "compile_s", "peak_rss_mb"):
            assert row[key] > 0, key
        assert len(row["train_step_s"]) == 2
    # the ratio comes from one process alternating both models' steps
    zoo_row = rows["zoo"]
    assert zoo_row["ratio_status"] == "ok" and len(zoo_row["train_pair_ratios"]) == 2
    assert zoo_row["train_vs_reference"] > 0 and zoo_row["infer_vs_reference"] > 0
    assert "efficientnet_b0" in proc.stdout and "train img/s" in proc.stdout
    assert rows["zoo"]["policy"] == "float32" and report["machine"]["cpu_model"]


@pytest.mark.slow  # two exports (ONNX, OpenVINO) through the tensorflow backend
def test_bench_runtimes_table(tmp_path):
    out = tmp_path / "bench.json"
    proc = run_cli(["-m", "zoo", "bench", "--models", "vit_tiny16", "--backends", "torch", "--image-size", "32",
                    "--batch-size", "2", "--steps", "1", "--warmup", "0", "--precision", "float32",
                    "--no-native", "--out", str(out)], backend="torch")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(out.read_text())["runtimes"]
    assert {(r["runtime"], r["batch"]) for r in rows} == {
        (runtime, batch) for runtime in ("keras", "onnxruntime", "openvino") for batch in (1, 32)}
    assert all(r["img_s"] > 0 for r in rows) and "vs Keras" in proc.stdout


@pytest.mark.slow  # ~90 s: two training processes (float32, bf16)
def test_bench_memory_only_per_precision(tmp_path):
    out = tmp_path / "bench.json"
    proc = run_cli(["-m", "zoo", "bench", "--models", "vit_tiny16", "--backends", "torch", "--image-size", "32",
                    "--batch-size", "2", "--precision", "float32,bfloat16", "--memory-only", "--out", str(out)],
                   backend="torch")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(out.read_text())["results"]
    assert [r["policy"] for r in rows] == ["float32", "mixed_bfloat16"]
    for row in rows:
        assert row["status"] == "ok" and row["peak_rss_mb"] > 100 and len(row["train_step_s"]) == 1
        assert "infer_img_s" not in row
    assert "peak RSS MB" in proc.stdout and "mixed_bfloat16" in proc.stdout


def test_native_torch_resnet50_has_keras_layout(tmp_path):
    """The reference line's hand-written ResNet50 has keras.applications' parameter count and trains."""
    from zoo.study import bench, torch_resnet

    native = torch_resnet.ResNet50(DEFAULT_TASKS)
    keras_count = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3)).count_params()
    assert torch_resnet.backbone_param_count(native) == keras_count == 23_587_712
    args = argparse.Namespace(batch_size=2, image_size=32, warmup=0, steps=1, memory_only=False)
    row = bench.native_worker(args, "float32")
    assert row["train_img_s"] > 0 and row["infer_img_s"] > 0 and row["peak_rss_mb"] > 100
    assert row["params"] == keras_count and row["autocast"] is None


def test_user_mistakes_are_one_line_exit_2():
    proc = run_cli(["-m", "zoo", "compare", "--backends", "jax,mxnet"])
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error:") and "mxnet" in proc.stderr
    assert "Traceback" not in proc.stderr
    with pytest.raises(ValueError, match="unknown model"):
        cli_run(["compare", "--models", "resnet5"])
    with pytest.raises(ValueError, match="not accepted"):
        cli_run(["bench", "--models", "vit_tiny16", "--image-size", "40"])
