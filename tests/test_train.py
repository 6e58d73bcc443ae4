"""The training launcher end to end: run folders on every backend, resume, NaN guard,
evaluate, predict and the one-line errors."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import BACKENDS, ROOT, backend_env, run_cli

# The cheapest zoo model at the smallest size it takes, on a tiny synthetic set.
TINY = ["--model", "vit_tiny16", "--image-size", "32", "--batch-size", "8", "--augment", "none"]


def train(backend, data, out, *extra, timeout=600):
    return run_cli(["-m", "zoo", "train", "--backend", backend, "--data", str(data), "--out", str(out),
                    *TINY, *extra], backend=backend, timeout=timeout)


def history_epochs(run):
    with open(run / "history.csv") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_train_writes_complete_run_folder(backend, tiny_data, tmp_path):
    run = tmp_path / "run"
    proc = train(backend, tiny_data, run, "--epochs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("config.json", "history.csv", "metrics.json", "confusion_matrix.png",
                 "curves.png", "model.keras"):
        assert (run / name).is_file(), name
    assert any((run / "tensorboard").rglob("*tfevents*"))
    assert history_epochs(run) == [1, 2]
    config = json.loads((run / "config.json").read_text())
    assert config["backend"] == backend and config["num_devices"] >= 1
    assert config["recipe"]["model"] == "vit_tiny16" and len(config["data"]["manifest_sha256"]) == 64
    metrics = json.loads((run / "metrics.json").read_text())
    for key in ("artist_top1", "artist_top5", "movement_top1", "year_mae"):
        assert metrics[key] is not None and metrics[key] >= 0
    assert len(metrics["per_artist_accuracy"]) == 4
    assert "artist top-1" in proc.stdout


# Resume, divergence, evaluate and predict run on PyTorch: no XLA compilation, so
# the tiny runs take seconds; the per-backend test above covers JAX and TensorFlow.


def test_resume_after_sigkill_lists_each_epoch_once(tiny_data, tmp_path):
    run = tmp_path / "run"
    args = [sys.executable, "-m", "zoo", "train", "--backend", "torch", "--data", str(tiny_data),
            "--out", str(run), *TINY, "--epochs", "6"]
    child = subprocess.Popen(args, cwd=ROOT, env=backend_env("torch"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = run / "checkpoints" / "state.json"
    deadline = time.time() + 400
    while time.time() < deadline and child.poll() is None:
        if state.exists() and json.loads(state.read_text())["epoch"] >= 1:
            break
        time.sleep(0.05)
    assert child.poll() is None, "training finished before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    killed_at = json.loads(state.read_text())["epoch"]
    assert 1 <= killed_at < 6 and not (run / "metrics.json").exists()

    proc = train("torch", tiny_data, run, "--epochs", "6", "--resume")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert history_epochs(run) == [1, 2, 3, 4, 5, 6]
    assert json.loads(state.read_text())["epoch"] == 6
    assert (run / "metrics.json").is_file()


def test_divergence_guard_stops_with_one_line(tiny_data, tmp_path):
    proc = train("torch", tiny_data, tmp_path / "run", "--epochs", "2", "--lr", "1e30")
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    assert "diverged at epoch 1" in lines[-1] and "--lr" in lines[-1]


@pytest.fixture(scope="module")
def trained_model(tiny_data, tmp_path_factory):
    run = tmp_path_factory.mktemp("trained") / "run"
    proc = train("torch", tiny_data, run, "--epochs", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return run / "model.keras"


def test_predict_names_training_artists_and_reports_broken_images(trained_model, tiny_data, tmp_path):
    images = sorted((tiny_data / "images").rglob("*.jpg"))[:2]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"<html>not an image</html>")
    proc = run_cli(["-m", "zoo", "predict", str(trained_model), str(images[0]), str(broken),
                    str(images[1]), "--top-k", "3"], backend="torch")
    lines = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    assert len(lines) == 3 and proc.returncode == 1
    with open(tiny_data / "manifest.csv") as f:
        artists = {row["artist"] for row in csv.DictReader(f)}
    for line in (lines[0], lines[2]):
        assert len(line["artists"]) == 3 and {a["name"] for a in line["artists"]} <= artists
        assert 0 <= line["artists"][0]["p"] <= 1 and line["movement"]["name"]
        assert 1000 < line["year"] < 2100 or isinstance(line["year"], float)
    assert lines[1]["image"] == str(broken) and "cannot read image" in lines[1]["error"]


def test_evaluate_writes_metrics_and_confusion(trained_model, tiny_data, tmp_path):
    proc = run_cli(["-m", "zoo", "evaluate", str(trained_model), "--data", str(tiny_data),
                    "--split", "val", "--out", str(tmp_path)], backend="torch")
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["split"] == "val" and metrics["n_images"] == 4
    assert (tmp_path / "confusion_matrix.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--model", "resnet5O"], "did you mean resnet50"),
        (["train", "--backend", "mxnet"], "unknown backend 'mxnet'"),
        (["train", "--recipe", "nope"], "unknown recipe 'nope'"),
        (["train", "--data", "/no/such/folder"], "/no/such/folder"),
        (["train", "--model", "vit_tiny16", "--image-size", "40", "--data", "{empty}"], "divisible by 16"),
        (["train", "--data", "{empty}"], "manifest"),
        (["predict", "/no/model.keras", "x.jpg"], "model file not found"),
        (["predict", "{lambda}", "x.jpg"], "Lambda"),
    ],
)
def test_user_errors_are_one_line_exit_2(args, message, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "manifest.csv").write_text("image_id,path,artist,year,movement,split,sha1,source\n")
    lambda_file = tmp_path / "lambda.keras"
    if "{lambda}" in args:
        code = ("import keras; i = keras.Input((4,)); "
                f"keras.Model(i, keras.layers.Lambda(lambda t: t * 2)(i)).save({str(lambda_file)!r})")
        subprocess.run([sys.executable, "-c", code], env=backend_env("jax"), check=True)
    args = [a.replace("{empty}", str(empty)).replace("{lambda}", str(lambda_file)) for a in args]
    proc = run_cli(["-m", "zoo", *args])
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], lines
