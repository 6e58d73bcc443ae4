"""Numeric agreement between backends: the same weights and batch give the same loss.

One model is built once (seeded, dropout off) and saved as `.keras`; then, in a
fresh process per backend, it is loaded, compiled with the training loop's
`compile_model` and the study recipe, and evaluated on one fixed batch:

* `first_step_loss`: the loss `train_on_batch` reports for its first step
  (training mode: BatchNorm batch statistics; no dropout, so no backend RNG).
  PASS/FAIL is on this one, against `TOLERANCE`.
* `eval_loss`: `test_on_batch` (inference mode), reported beside it. With
  BatchNorm it is ill-conditioned: statistics from 8 images leave channels with
  near-zero variance, divided by sqrt(var + 1e-5), which magnifies last-bit
  differences (ResNet50: ~3e-4 relative where the first-step loss agrees to ~1e-5).

Before saving, the BatchNorm moving statistics are set to the batch's own: at their
initial values (mean 0, variance 1) a random ResNet's activations grow layer by
layer until the softmax saturates, and there Keras' backends differ on purpose
(TensorFlow takes the cross-entropy from the softmax's logits, JAX and torch clip
probabilities at 1e-7), which is not what this check is about.

Children (used by `check`): `python -m zoo.study.agreement make DIR ...` builds,
saves and computes its own backend's losses; `... loss DIR ...` loads and computes.
"""

import argparse
import json
import sys
from pathlib import Path

from zoo.study.batch import random_batch
from zoo.study.child import child_env, run_child

# fp32 on CPU: backends order reductions differently (oneDNN, Eigen, XLA), which
# moves the loss by ~1e-7..1e-6 relative; 1e-4 leaves room for that and still
# catches any real difference (a wrong layout, epsilon or activation is >> 1e-3).
TOLERANCE = 1e-4
BATCH = 8
TASKS = {"artist": 10, "movement": 4, "year": "regression"}
KINDS = ("first_step_loss", "eval_loss")


def _make(out: Path, model_name: str, image_size: int, seed: int) -> None:
    """Build and save the model and one fixed batch (runs in a child)."""
    import keras
    import numpy as np

    import zoo
    from zoo.factory import all_layers

    keras.utils.set_random_seed(seed)
    model = zoo.build(model_name, tasks=TASKS, input_shape=(image_size, image_size, 3), dropout=0.0)
    images, targets = random_batch(BATCH, image_size, TASKS, seed)
    np.savez(out / "batch.npz", images=images, **targets)
    norms = [layer for layer in all_layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
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
    result = {
        "eval_loss": float(model.test_on_batch(x, y, return_dict=True)["loss"]),
        "first_step_loss": float(model.train_on_batch(x, y, return_dict=True)["loss"]),
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
    steps = [(maker, ["make", str(out), "--model", model_name, "--image-size", str(image_size),
                      "--seed", str(seed), "--recipe", recipe])]  # also its own backend's loss
    steps += [(b, ["loss", str(out), "--recipe", recipe]) for b in backends if b != maker]
    report = dict(settings, built_on=maker)
    for backend, args in steps:
        res = run_child(["-m", "zoo.study.agreement", *args], env=child_env(backend),
                        log_path=out / f"{args[0]}-{backend}.log", timeout_s=timeout_s)
        if res.returncode != 0:
            report["error"] = f"{args[0]} on {backend} failed: {res.last_error}"
            done.write_text(json.dumps(report, indent=1))
            return report
    report["losses"] = {b: json.loads((out / f"loss-{b}.json").read_text()) for b in backends}
    report["rel_diff"] = {kind: relative_difference(report["losses"], kind) for kind in KINDS}
    report["passed"] = report["rel_diff"]["first_step_loss"] <= TOLERANCE
    done.write_text(json.dumps(report, indent=1))
    return report


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m zoo.study.agreement", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="step", required=True)
    m = sub.add_parser("make")
    m.add_argument("dir", type=Path)
    m.add_argument("--model", required=True)
    m.add_argument("--image-size", type=int, required=True)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--recipe", required=True)
    loss = sub.add_parser("loss")
    loss.add_argument("dir", type=Path)
    loss.add_argument("--recipe", required=True)
    args = p.parse_args(argv)
    if args.step == "make":
        _make(args.dir, args.model, args.image_size, args.seed)
    _loss(args.dir, args.recipe)
    return 0


if __name__ == "__main__":
    sys.exit(main())
