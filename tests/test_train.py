"""The training launcher end to end: run folders on every backend, resume, NaN guard,
evaluate, predict and the one-line errors."""

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.conftest import ROOT, backend_env, run_child, run_cli
from zoo.training.timing import PHASES

# The cheapest zoo model at the smallest size it takes, on a tiny synthetic set.
TINY = ["--model", "vit_tiny16", "--image-size", "32", "--batch-size", "8", "--augment", "none"]


def train(backend, data, out, *extra, timeout=600):
    return run_cli(["-m", "zoo", "train", "--backend", backend, "--data", str(data), "--out", str(out),
                    *TINY, *extra], backend=backend, timeout=timeout)


def history_epochs(run):
    with open(run / "history.csv") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


# JAX and TensorFlow compile the model (about a minute each here): slow; torch is the default check.
@pytest.mark.parametrize("backend", [pytest.param("jax", marks=pytest.mark.slow),
                                     pytest.param("tensorflow", marks=pytest.mark.slow), "torch"])
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
    for key in ("artist_top1", "movement_top1", "year_mae"):
        assert metrics[key] is not None and metrics[key] >= 0
    assert "artist_top5" not in metrics  # 4 artists: top-5 is always 1 (issue 23)
    assert len(metrics["per_artist_accuracy"]) == 4
    assert metrics["params"] > 5e6 and metrics["gflops"] > 0  # ViT-Ti/16 backbone + heads
    assert "artist top-1" in proc.stdout
    timings = json.loads((run / "timings.json").read_text())
    assert set(timings["phases_s"]) == set(PHASES) and timings["train_img_s"] > 0
    assert min(timings["phases_s"].values()) >= 0 and timings["phases_s"]["first_step"] > 0
    assert sum(timings["phases_s"].values()) == pytest.approx(timings["total_s"], abs=0.01)
    # One resumable checkpoint, the best weights, model.keras without optimizer state.
    files = {p.name for p in (run / "checkpoints").iterdir()}
    assert files == {"epoch_0002.keras", "best.weights.npz", "state.json"}, files
    full = (run / "checkpoints/epoch_0002.keras").stat().st_size  # weights + AdamW's two moments
    assert (run / "model.keras").stat().st_size < 0.4 * full
    assert (run / "checkpoints/best.weights.npz").stat().st_size < 0.4 * full


# Resume, divergence, evaluate and predict run on PyTorch: no XLA compilation, so
# the tiny runs take seconds; the per-backend test above covers JAX and TensorFlow.


def test_resume_after_sigkill_lists_each_epoch_once(tiny_data, tmp_path):
    run = tmp_path / "run"
    args = [sys.executable, "-m", "zoo", "train", "--backend", "torch", "--data", str(tiny_data),
            "--out", str(run), *TINY, "--epochs", "4"]
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
    assert 1 <= killed_at < 4 and not (run / "metrics.json").exists()

    proc = train("torch", tiny_data, run, "--epochs", "4", "--resume")  # the original flags are accepted
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert history_epochs(run) == [1, 2, 3, 4]
    assert json.loads(state.read_text())["epoch"] == 4
    assert (run / "metrics.json").is_file()


def test_divergence_guard_stops_with_one_line(tiny_data, tmp_path):
    proc = train("torch", tiny_data, tmp_path / "run", "--epochs", "2", "--lr", "1e30")
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    assert "diverged at epoch 1" in lines[-1] and "--lr" in lines[-1]


@pytest.fixture(scope="module")
def trained_run(tiny_data, tmp_path_factory):
    """A finished 1-epoch torch run (the vit recipe) and its CompletedProcess."""
    run = tmp_path_factory.mktemp("trained") / "run"
    proc = train("torch", tiny_data, run, "--epochs", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return run, proc


@pytest.fixture(scope="module")
def trained_model(trained_run):
    return trained_run[0] / "model.keras"


def no_backend_env() -> dict:
    """A child environment as a user's shell has it: no KERAS_BACKEND."""
    env = backend_env("jax")
    del env["KERAS_BACKEND"]
    return env


def keras_backend_imported(stderr: str, backend: str) -> bool:
    """Whether `python -X importtime` reports importing Keras' implementation of `backend`."""
    return re.search(rf"\|\s+keras\.src\.backend\.{backend}$", stderr, re.MULTILINE) is not None


def test_short_run_warns_and_shortens_warm_up(trained_run):
    run, proc = trained_run
    assert "warm-up shortened to 0.5" in proc.stderr  # the vit recipe's 5 warm-up epochs, 1 epoch run
    assert json.loads((run / "config.json").read_text())["recipe"]["warmup_epochs"] == 0.5


@pytest.mark.slow  # keeps `make test` within 13 min; `make test-all` runs it
def test_resume_with_more_epochs_keeps_learning_and_refuses_changed_flags(trained_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained_run[0], run)
    resume = ["-m", "zoo", "train", "--resume", "--out", str(run)]
    proc = run_cli([*resume, "--epochs", "2"], backend="torch")  # no recipe flags: config.json has them
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(run / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert rows[1]["val_loss"] != rows[0]["val_loss"]  # learning rate 0 would leave it unchanged
    config = json.loads((run / "config.json").read_text())
    assert config["recipe"]["epochs"] == 2 and config["recipe"]["model"] == "vit_tiny16"
    assert config["resumed"] == [{"at_epoch": 1, "epochs": 2}]
    # Not a terminal: one plain line per epoch, no progress-bar escapes.
    assert "\x1b" not in proc.stdout + proc.stderr and "\x08" not in proc.stdout + proc.stderr
    assert re.findall(r"^epoch (\d+)/2 ", proc.stdout, re.MULTILINE) == ["2"]

    metrics = run / "metrics.json"
    before = metrics.stat().st_mtime_ns
    done = run_cli(resume, backend="torch")
    assert done.returncode == 0 and "is finished (2 epochs" in done.stdout, done.stderr[-2000:]
    assert metrics.stat().st_mtime_ns == before

    refused = run_cli([*resume, "--lr", "0.5"], backend="torch")
    lines = refused.stderr.strip().splitlines()
    assert refused.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: --lr 0.5: "), lines


def test_train_without_backend_or_keras_backend_reaches_the_model_check(tiny_data):
    # Before the backend default worked this died on "keras already runs on ...".
    proc = subprocess.run([sys.executable, "-m", "zoo", "train", "--data", str(tiny_data), "--model",
                           "vit_tiny16", "--image-size", "40"], cwd=ROOT, env=no_backend_env(),
                          capture_output=True, text=True, timeout=300)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "divisible by 16" in lines[0], lines


def test_predict_names_training_artists_and_reports_broken_images(trained_model, tiny_data, tmp_path):
    images = sorted((tiny_data / "images").rglob("*.jpg"))[:2]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"<html>not an image</html>")
    # As the README writes it: no --backend, no KERAS_BACKEND -> the run's recorded torch.
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "zoo", "predict", str(trained_model),
                           str(images[0]), str(broken), str(images[1]), "--top-k", "3"],
                          cwd=ROOT, env=no_backend_env(), capture_output=True, text=True, timeout=300)
    assert keras_backend_imported(proc.stderr, "torch") and not keras_backend_imported(proc.stderr, "jax")
    lines = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    assert len(lines) == 3 and proc.returncode == 1
    with open(tiny_data / "manifest.csv") as f:
        artists = {row["artist"] for row in csv.DictReader(f)}
    for line in (lines[0], lines[2]):
        assert len(line["artists"]) == 3 and {a["name"] for a in line["artists"]} <= artists
        assert 0 <= line["artists"][0]["p"] <= 1 and line["movement"]["name"]
        assert 1000 < line["year"] < 2100 or isinstance(line["year"], float)
    assert lines[1]["image"] == str(broken) and "cannot read image" in lines[1]["error"]


def test_evaluate_writes_split_files_beside_the_model(trained_model, tiny_data):
    run = trained_model.parent
    test_metrics = (run / "metrics.json").read_bytes()
    proc = subprocess.run([sys.executable, "-m", "zoo", "evaluate", str(trained_model), "--data",
                           str(tiny_data), "--split", "val"], cwd=ROOT, env=no_backend_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((run / "metrics-val.json").read_text())
    assert metrics["split"] == "val" and metrics["n_images"] == 4 and metrics["backend"] == "torch"
    assert (run / "confusion_matrix-val.png").stat().st_size > 1000
    assert (run / "metrics.json").read_bytes() == test_metrics  # training's test metrics are kept


def test_evaluate_model_without_movement_head_on_one_movement_data(tiny_data, tmp_path):
    data = tmp_path / "one_movement"
    shutil.copytree(tiny_data, data)
    with open(data / "manifest.csv") as f:
        rows = list(csv.DictReader(f))
    with open(data / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "movement": "Baroque"} for r in rows)
    report = run_child("torch", "training:evaluate_without_movement_head", data=str(data), out=str(tmp_path))
    assert report == {"code": 0, "heads": ["artist", "year"]}
    assert json.loads((tmp_path / "metrics-val.json").read_text())["n_images"] == 4


def test_plateau_patience_counts_across_resume(tmp_path):
    import keras

    from zoo.run_folder import RunFolder
    from zoo.training.callbacks import ResumablePlateau, RunCheckpoint

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(1e-9), "mse")  # the loss never improves by min_delta
    x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")

    folder = RunFolder(tmp_path)

    def fit(start, stop, state):
        plateau = ResumablePlateau(monitor="loss", factor=0.5, patience=3, min_lr=0.0,
                                   restored=state.plateau if state else None)
        model.fit(x, y, epochs=stop, initial_epoch=start, verbose=0,
                  callbacks=[plateau, RunCheckpoint(folder, "loss", plateau, state)])

    fit(0, 2, None)  # epoch 1 sets the best, epoch 2: wait 1
    assert folder.read_state().plateau["wait"] == 1
    fit(2, 4, folder.read_state())  # a fresh callback, as after --resume: wait 2, then 3 -> reduce
    lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    assert lr == pytest.approx(0.5e-9, rel=1e-3)


def test_head_loss_averages_over_known_labels():
    import keras

    import recipes
    from data_tools.labels import LabelSpace
    from zoo import ArtistModel
    from zoo.training.loop import compile_model

    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,))
    features = keras.Model(inputs, keras.layers.Identity()(inputs))  # 3 features in, as they are
    model = ArtistModel(features, LabelSpace.from_tasks({"artist": ["a", "b"], "year": "regression"},
                                                        {"year": (1850.0, 100.0)}), dropout=0.0)
    compile_model(model, recipes.Recipe(loss_weights={"artist": 1.0, "year": 1.0}), steps_per_epoch=1)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)).astype("float32")
    y = {"artist": np.eye(2, dtype="float32")[rng.integers(0, 2, 8)],
         "year": rng.uniform(1700, 2000, (8, 1)).astype("float32")}
    known = np.arange(8) % 2 == 0
    masked = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True, sample_weight={
        "artist": np.ones(8, "float32"), "year": known.astype("float32")})
    half = model.evaluate(x[known], {k: v[known] for k, v in y.items()}, batch_size=8, verbose=0,
                          return_dict=True)
    assert masked["year_loss"] == pytest.approx(half["year_loss"], rel=1e-5)
    assert masked["year_loss"] > 0.01


def test_metrics_table_lists_only_artists_below_the_best(capsys):
    from zoo.training.report import print_metrics

    print_metrics({"artist_top1": 1.0, "per_artist_accuracy": {"a": 1.0, "b": 1.0}}, title="t")
    assert "weakest" not in capsys.readouterr().out
    print_metrics({"artist_top1": 0.8, "per_artist_accuracy": {"a": 1.0, "b": 0.6, "c": 0.8}}, title="t")
    out = capsys.readouterr().out
    assert "weakest: b" in out and "weakest: c" in out and "weakest: a" not in out


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
        run_child("jax", "training:save_lambda_model", path=str(lambda_file))
    args = [a.replace("{empty}", str(empty)).replace("{lambda}", str(lambda_file)) for a in args]
    proc = run_cli(["-m", "zoo", *args])
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], lines
