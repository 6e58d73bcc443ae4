"""Numeric agreement between backends: the same weights and batch give the same loss.

One model is built once (seeded, dropout off) and saved as `.keras`; then, in a
fresh process per backend, it is loaded, compiled with the training loop's
`compile_model` and the study recipe, and evaluated on one fixed batch:

* `first_step_loss`: the compiled loss of a training-mode forward pass, what
  `train_on_batch` reports for its first step (BatchNorm batch statistics; no
  dropout, so no backend RNG). PASS/FAIL is on this one, against `TOLERANCE`.
* `eval_loss`: the same in inference mode, reported beside it. With BatchNorm it
  is ill-conditioned: statistics from 8 images leave channels with near-zero
  variance, divided by sqrt(var + 1e-5), which magnifies last-bit differences.

The model runs in float64 (`keras.config.set_floatx` and a float64 dtype policy; JAX
needs `JAX_ENABLE_X64`; the task heads, float32 by design, are rebuilt in float64):
in float32 the backends' convolution kernels round differently, TensorFlow's oneDNN
on Intel by more (first-step spread 6.2e-5 there, 1.2e-5 on AMD, against 1e-4).
In float64 the convolutions and matmuls agree to ~1e-15; what is left is Keras'
BatchNormalization, which computes in float32 on JAX and torch (Keras' `result_type`
turns float64 into float32 outside TensorFlow), and LayerNorm likewise: the spread
is then 3.2e-6 for ResNet50 at 32 px (was 1.2e-5..6.2e-5 in float32) and 1.9e-7 for
ViT-Ti/16 (TensorFlow's float64 losses are bit-identical with oneDNN on and off). One kernel of ViT-Ti scaled by 1.01 moves the loss by
~1.2e-4 (by 1.001: 1.2e-5, below what Keras' float32 BatchNorm lets us resolve).

Before saving, the BatchNorm moving statistics are set to the batch's own: at their
initial values (mean 0, variance 1) a random ResNet's activations grow layer by
layer until the softmax saturates, and there Keras' backends differ on purpose
(TensorFlow takes the cross-entropy from the softmax's logits, JAX and torch clip
probabilities at 1e-7), which is not what this check is about.

Children (used by `check`, through `zoo.study.worker`): `make_step` builds, saves
and computes its own backend's losses; `loss_step` loads and computes.
"""

import json
from pathlib import Path

from zoo.study import worker
from zoo.study.batch import random_batch
from zoo.study.child import child_env, run_child

# float64 with float32 normalisation on JAX/torch: ResNet50 spreads 3.2e-6, 6x below;
# one ViT-Ti kernel scaled by 1.01 moves the loss 6x above (module docstring, tests/test_study.py).
TOLERANCE = 2e-5
# The child's environment: JAX computes in float32 unless x64 is switched on.
CHILD_ENV = {"JAX_ENABLE_X64": "1"}
BATCH = 8
TASKS = {"artist": 10, "movement": 4, "year": "regression"}
KINDS = ("first_step_loss", "eval_loss")


def _float64() -> None:
    """Make float64 the default for new variables, layers and losses."""
    import keras

    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")


def _float64_heads(model):
    """`model` with its TaskHeads (float32 by design) rebuilt in float64, same weights:
    float32 logits of a random ResNet are large, and their last-bit rounding alone
    moves the loss by ~1e-5."""
    from zoo.artist_model import ArtistModel
    from zoo.heads import TaskHead

    heads = {name: TaskHead.from_config({**head.get_config(), "dtype": "float64"})
             for name, head in model.heads.items()}
    copy = ArtistModel(model.backbone, model.label_space, image_filter=model.image_filter,
                       dropout=0.0, name=model.name, heads=heads)  # the backbone shared, weights and all
    for name, head in model.heads.items():
        copy.heads[name].set_weights(head.get_weights())
    return copy


def _make(out: Path, model_name: str, image_size: int, seed: int) -> None:
    """Build and save the model and one fixed batch (runs in a child)."""
    import keras
    import numpy as np

    import zoo

    keras.utils.set_random_seed(seed)
    model = _float64_heads(zoo.build(model_name, tasks=TASKS, input_shape=(image_size, image_size, 3),
                                     dropout=0.0))
    images, targets = random_batch(BATCH, image_size, TASKS, seed)
    np.savez(out / "batch.npz", images=images, **targets)
    norms = [layer for layer in model.backbone._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0  # one training-mode pass copies the batch statistics
    model(images, training=True)
    for layer, momentum in zip(norms, momenta, strict=True):
        layer.momentum = momentum
    model.save(out / "model.keras")


def _loss(out: Path, recipe_name: str) -> None:
    """Load the saved model on this backend and write `loss-<backend>.json` (runs in a child)."""
    import keras
    import numpy as np

    import recipes
    import zoo
    from zoo.training.loop import compile_model

    model = zoo.load_model(out / "model.keras", compile=False)
    compile_model(model, recipes.load(recipe_name), steps_per_epoch=1)
    batch = np.load(out / "batch.npz")
    x = batch["images"]
    y = {name: batch[name] for name in TASKS}
    # The compiled loss of one forward pass, as train_on_batch / test_on_batch report it,
    # without their metrics (TensorFlow's top-k takes float32 only) and optimizer step.
    result = {
        "eval_loss": float(model.compute_loss(x, y, model(x, training=False), training=False)),
        "first_step_loss": float(model.compute_loss(x, y, model(x, training=True))),
    }
    backend = keras.backend.backend()
    (out / f"loss-{backend}.json").write_text(json.dumps(result))


def relative_difference(losses: dict, kind: str) -> float:
    """(max - min) / |mean| of one loss kind across the backends in `losses`."""
    values = [v[kind] for v in losses.values()]
    return (max(values) - min(values)) / (abs(sum(values) / len(values)) or 1.0)


def check(model_name: str, image_size: int, backends: list[str], out: Path, *,
          recipe: str, seed: int = 0, timeout_s: float = 1800) -> dict:
    """Run the check (or reuse `out/agreement.json` from the same settings); returns its report.

    The report: settings, `losses` {backend: {eval_loss, first_step_loss}},
    `rel_diff` {kind: relative difference}, `tolerance`, `passed` (first-step loss), or `error`
    """
    out.mkdir(parents=True, exist_ok=True)
    settings = {"model": model_name, "image_size": image_size, "backends": list(backends),
                "recipe": recipe, "seed": seed, "tolerance": TOLERANCE}
    done = out / "agreement.json"
    if done.exists():
        report = json.loads(done.read_text())
        if all(report.get(k) == v for k, v in settings.items()) and "error" not in report:
            return report
    maker = "jax" if "jax" in backends else backends[0]
    steps = [(maker, "make", worker.command("agreement:make_step", out=str(out), model_name=model_name,
                                            image_size=image_size, seed=seed, recipe=recipe))]
    steps += [(b, "loss", worker.command("agreement:loss_step", out=str(out), recipe=recipe))
              for b in backends if b != maker]
    report = dict(settings, built_on=maker)
    for backend, step, cmd in steps:
        res = run_child(cmd, env=child_env(backend, CHILD_ENV),
                        log_path=out / f"{step}-{backend}.log", timeout_s=timeout_s)
        if res.returncode != 0:
            report["error"] = f"{step} on {backend} failed: {res.last_error}"
            done.write_text(json.dumps(report, indent=1))
            return report
    report["losses"] = {b: json.loads((out / f"loss-{b}.json").read_text()) for b in backends}
    report["rel_diff"] = {kind: relative_difference(report["losses"], kind) for kind in KINDS}
    report["passed"] = report["rel_diff"]["first_step_loss"] <= TOLERANCE
    done.write_text(json.dumps(report, indent=1))
    return report


def make_step(out: str, model_name: str, image_size: int, seed: int, recipe: str) -> None:
    """Child step on the building backend: build and save the model and batch, then its losses."""
    _float64()
    _make(Path(out), model_name, image_size, seed)
    _loss(Path(out), recipe)


def loss_step(out: str, recipe: str) -> None:
    """Child step on every other backend: load the saved model, write `loss-<backend>.json`."""
    _float64()
    _loss(Path(out), recipe)
