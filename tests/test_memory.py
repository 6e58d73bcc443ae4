"""`--accumulate N` (Keras' gradient_accumulation_steps) and the out-of-memory stop."""

import json
import textwrap

import pytest

from tests.conftest import run_cli, run_on_backend
from zoo.training.oom import advice

# A small MLP (no BatchNorm, no dropout): a step's update depends only on the batch's
# mean gradient, so accumulated halves must reproduce it. The optimizer is the loop's own
# (`make_optimizer`: AdamW, global-norm clipping, the recipe's schedule); the loop's
# wiring of --accumulate is covered by tests/test_precision.py's end-to-end run.
RUNS = """
    import json, os, tempfile
    import keras, numpy as np
    import recipes
    from zoo.training.loop import make_optimizer

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 8)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 4, 32), 4)
    base = recipes.load("quickstart").replace(epochs=2, batch_size=8, warmup_epochs=0)

    def fit(recipe, epochs, model=None):
        step = recipe.batch_size // recipe.accumulate
        if model is None:
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                                      keras.layers.Dense(4, activation="softmax")])
            model.compile(make_optimizer(recipe, steps_per_epoch=32 // step), "categorical_crossentropy")
        lrs = []
        for _ in range(epochs):
            model.fit(x, y, batch_size=step, epochs=1, shuffle=False, verbose=0)
            lrs.append(float(model.optimizer.learning_rate))
        return model, lrs

    def weights(model):
        return np.concatenate([np.ravel(w) for w in model.get_weights()])

    flat = base.replace(schedule="plateau")  # a constant learning rate
    one, _ = fit(flat, 1)
    acc, _ = fit(flat.replace(accumulate=2), 1)
    half, _ = fit(flat.replace(batch_size=4), 1)  # the control: twice the updates
    cosine, lrs = fit(base.replace(accumulate=2), 2)
    first, _ = fit(flat.replace(accumulate=2), 1)  # interrupted after epoch 1 ...
    path = os.path.join(tempfile.mkdtemp(), "epoch_0001.keras")
    first.save(path)
    resumed, _ = fit(flat.replace(accumulate=2), 1, keras.saving.load_model(path))
    straight, _ = fit(flat.replace(accumulate=2), 2)  # ... and not
    ref = weights(one) - weights(fit(flat, 0)[0])  # the update of 4 steps of batch 8
    print(json.dumps({
        "acc_err": float(np.abs(weights(acc) - weights(one)).max()),
        "half_err": float(np.abs(weights(half) - weights(one)).max()),
        "update": float(np.abs(ref).max()),
        "counts": [int(acc.optimizer.iterations), int(acc.optimizer._iterations)],
        "cosine_lrs": lrs, "cosine_counts": [int(cosine.optimizer.iterations), int(cosine.optimizer._iterations)],
        "resume_err": float(np.abs(weights(resumed) - weights(straight)).max()),
        "resumed_counts": [int(resumed.optimizer.iterations), int(resumed.optimizer._iterations)],
    }))
"""


@pytest.fixture(scope="module")
def runs():
    """Every accumulation run in one torch process (seconds: 32 samples, 8 features)."""
    return run_on_backend("torch", RUNS)


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
OOM_ERRORS = """
    import json
    import jax, tensorflow as tf, torch
    from zoo.training.oom import is_out_of_memory

    def chained(exc):  # how Keras' traceback filtering re-raises
        try:
            try:
                raise exc
            except Exception as inner:
                raise RuntimeError("Exception encountered when calling layer") from inner
        except RuntimeError as outer:
            return outer

    jax_oom = jax.errors.JaxRuntimeError(
        "RESOURCE_EXHAUSTED: Out of memory while trying to allocate 2147483648 bytes.")
    cases = {
        "jax": jax_oom,
        "jax-chained": chained(jax_oom),
        "tensorflow": tf.errors.ResourceExhaustedError(
            None, None, "OOM when allocating tensor with shape[32,64,112,112]"),
        "torch": torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        "torch-cpu": RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: "
                                  "can't allocate memory: you tried to allocate 8589934592 bytes."),
        "host": MemoryError(),
        "not-jax": jax.errors.JaxRuntimeError("INVALID_ARGUMENT: shapes do not match"),
        "not-tf": tf.errors.InvalidArgumentError(None, None, "Incompatible shapes: [2] vs. [3]"),
        "not-torch": RuntimeError("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
        "not-value": ValueError("out of memory is not a ValueError's business"),
    }
    print(json.dumps({name: is_out_of_memory(exc) for name, exc in cases.items()}))
"""


def test_out_of_memory_recognised_for_every_backend():
    """One process imports all three backends (their exception classes, no device needed)."""
    got = run_on_backend("jax", textwrap.dedent(OOM_ERRORS))
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
