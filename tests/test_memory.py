"""`--accumulate N` (Keras' gradient_accumulation_steps) and the out-of-memory stop."""

import json

import pytest

from tests.conftest import run_child, run_cli
from zoo.training.oom import advice

# A small MLP (no BatchNorm, no dropout): a step's update depends only on the batch's
# mean gradient, so accumulated halves must reproduce it. The optimizer is the loop's own
# (`make_optimizer`: AdamW, global-norm clipping, the recipe's schedule); the loop's
# wiring of --accumulate is covered by tests/test_precision.py's end-to-end run.


@pytest.fixture(scope="module")
def runs():
    """Every accumulation run in one torch process (seconds: 32 samples, 8 features)."""
    return run_child("torch", "memory:accumulation_runs")


def test_accumulated_halves_give_the_batch_update(runs):
    # 32 samples, batch 8: 4 updates; accumulated, from 8 steps of 4 samples each.
    assert runs["counts"] == [4, 8]
    assert runs["update"] > 1e-3  # the weights moved ...
    assert runs["acc_err"] < 1e-4 * runs["update"] * 10  # ... and by the same amount (float32 sums)
    assert runs["half_err"] > 100 * runs["acc_err"]


def test_schedule_counts_steps_not_updates(runs):
    """Keras' schedules see every step (`_iterations`), and the loop sizes them in steps:
    after epoch 1 of 2 the cosine is at half the peak; sized in updates it would be at 0."""
    first, last = runs["cosine_lrs"]
    assert first == pytest.approx(0.5e-3, rel=0.05) and last == pytest.approx(0.0, abs=1e-6)
    assert runs["cosine_counts"] == [8, 16]


def test_resume_keeps_accumulating(runs):
    """A checkpoint saved after epoch 1 (model + optimizer) continues as if never stopped."""
    assert runs["resumed_counts"] == [8, 16]
    assert runs["resume_err"] < 1e-6


def test_batch_must_divide_by_accumulate(tiny_data, tmp_path):
    proc = run_cli(["-m", "zoo", "train", "--backend", "torch", "--data", str(tiny_data),
                    "--out", str(tmp_path / "r"), "--batch-size", "6", "--accumulate", "4"],
                   backend="torch")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: --batch-size 6 must be divisible by --accumulate 4 "
        "(each step takes batch-size / accumulate images)"]
    assert not (tmp_path / "r").exists()


# Each backend's own out-of-memory exception, constructed as the backend raises it.


def test_out_of_memory_recognised_for_every_backend():
    """One process imports all three backends (their exception classes, no device needed)."""
    got = run_child("jax", "memory:oom_cases")
    assert {k for k, v in got.items() if v} == {"jax", "jax-chained", "tensorflow", "torch",
                                                "torch-cpu", "host"}


def test_out_of_memory_advice_names_the_way_out(tmp_path):
    assert advice(tmp_path, 32, 1) == (
        "out of memory in the first epoch (batch 32, 32 images a step); try --accumulate 2 or a "
        "smaller --batch-size (now 32); no epoch finished, no checkpoint")
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "state.json").write_text(json.dumps(
        {"epoch": 3, "checkpoint": "epoch_0003.keras", "history": []}))
    line = advice(tmp_path, 24, 2)
    assert line.startswith("out of memory at epoch 4 (batch 24, 12 images a step); try --accumulate 4 ")
    assert line.endswith(f"last checkpoint: {tmp_path}/checkpoints/epoch_0003.keras")
    assert "--accumulate" not in advice(tmp_path, 6, 2)  # 6 does not split into 4 steps
