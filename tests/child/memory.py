"""Checks of tests/test_memory.py run in a fresh process on one backend."""


def accumulation_runs() -> dict:
    """Every accumulation run (32 samples, 8 features): accumulated vs plain updates, schedule, resume."""
    import os
    import tempfile

    import keras
    import numpy as np

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
    return {
        "acc_err": float(np.abs(weights(acc) - weights(one)).max()),
        "half_err": float(np.abs(weights(half) - weights(one)).max()),
        "update": float(np.abs(ref).max()),
        "counts": [int(acc.optimizer.iterations), int(acc.optimizer._iterations)],
        "cosine_lrs": lrs, "cosine_counts": [int(cosine.optimizer.iterations), int(cosine.optimizer._iterations)],
        "resume_err": float(np.abs(weights(resumed) - weights(straight)).max()),
        "resumed_counts": [int(resumed.optimizer.iterations), int(resumed.optimizer._iterations)],
    }


def oom_cases() -> dict:
    """is_out_of_memory on each backend's own out-of-memory exception (and look-alikes)."""
    import jax
    import tensorflow as tf
    import torch

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
    return {name: is_out_of_memory(exc) for name, exc in cases.items()}
