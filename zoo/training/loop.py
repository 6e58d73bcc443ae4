"""The one training loop: a recipe + a data folder -> a complete run folder.

Every model and backend goes through `train()`, which is plain `model.fit`
with Keras callbacks. Data comes from `data_tools.pipeline` (tf.data, which
feeds all three backends).
"""

import dataclasses
import json
import math
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import keras

import zoo
from recipes import Recipe
from zoo.training import evaluation, plots
from zoo.training.callbacks import (
    DivergenceGuard,
    RunCheckpoint,
    ThroughputMeter,
    read_state,
    write_atomic,
)
from zoo.training.distribute import Cluster, check_batch
from zoo.training.losses import ScaledHuber


class Diverged(RuntimeError):
    """The loss became NaN/inf; the message says where and what to try."""


@dataclass
class RunResult:
    run_dir: Path
    metrics: dict
    epochs_done: int
    wall_s: float


def head_tasks(labels) -> dict:
    """`zoo.build` tasks from a LabelSpace, with the class names stored in the model."""
    if len(labels.artists) < 2:
        raise ValueError(f"the data has {len(labels.artists)} artist(s); at least 2 are needed")
    names = {"artist": list(labels.artists), "movement": list(labels.movements)}
    return {task: names.get(task, kind) for task, kind in labels.tasks().items()}


def make_optimizer(recipe: Recipe, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The recipe's optimizer with its schedule and global-norm clipping."""
    lr = recipe.lr
    if recipe.schedule == "cosine":
        warmup = int(recipe.warmup_epochs * steps_per_epoch)
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0 if warmup else recipe.lr,
            decay_steps=max(1, recipe.epochs * steps_per_epoch - warmup),
            warmup_target=recipe.lr if warmup else None,
            warmup_steps=warmup,
        )
    elif recipe.schedule != "plateau":
        raise ValueError(f"recipe schedule {recipe.schedule!r}: valid are plateau, cosine")
    kwargs = {"learning_rate": lr, "global_clipnorm": recipe.clipnorm}
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(**kwargs)
    if recipe.optimizer == "adamw":
        return keras.optimizers.AdamW(weight_decay=recipe.weight_decay, **kwargs)
    if recipe.optimizer == "sgd":
        return keras.optimizers.SGD(momentum=0.9, nesterov=True, **kwargs)
    raise ValueError(f"recipe optimizer {recipe.optimizer!r}: valid are adam, adamw, sgd")


def compile_model(model: keras.Model, recipe: Recipe, steps_per_epoch: int) -> None:
    """Losses per head (cross-entropy / scaled Huber), masked metrics, loss weights."""
    losses, metrics = {}, {}
    for name in model.output_names:
        head = model.get_layer(name)
        if head.is_regression:
            losses[name] = ScaledHuber(head.center, head.scale)
            metrics[name] = [keras.metrics.MeanAbsoluteError(name="mae")]
        else:
            losses[name] = keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
            metrics[name] = [keras.metrics.CategoricalAccuracy(name="top1")]
            if name == "artist":  # k capped: torch's top-k fails when k > classes
                k = min(5, len(head.class_names))
                metrics[name].append(keras.metrics.TopKCategoricalAccuracy(k, name="top5"))
    model.compile(
        optimizer=make_optimizer(recipe, steps_per_epoch),
        loss=losses,
        loss_weights={n: float(recipe.loss_weights.get(n, 1.0)) for n in model.output_names},
        weighted_metrics=metrics,  # weighted: missing labels carry weight 0
    )


def _config(recipe, backend, data_dir, seed, labels, cluster) -> dict:
    from data_tools.manifest import manifest_hash

    lib = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}[backend]
    return {
        "recipe": recipe.to_dict(),
        "backend": backend,
        "seed": seed,
        "num_devices": cluster.num_devices,
        "num_processes": cluster.num_processes,
        "data": {"dir": str(Path(data_dir).resolve()), "manifest_sha256": manifest_hash(data_dir)},
        "labels": dataclasses.asdict(labels),
        "versions": {"python": platform.python_version(), "keras": keras.__version__,
                     lib: __import__(lib).__version__},
    }


def _callbacks(recipe, run_dir, ckpt_dir, state, val_monitor, chief):
    guard = DivergenceGuard()
    meter = ThroughputMeter(recipe.batch_size)
    plateau = None
    extra = [keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard"), write_graph=False)] if chief else []
    if recipe.schedule == "plateau":
        plateau = keras.callbacks.ReduceLROnPlateau(monitor=val_monitor, factor=0.5, patience=3, min_lr=1e-7)
        extra.append(plateau)
    if recipe.early_stopping:
        extra.append(keras.callbacks.EarlyStopping(monitor=val_monitor, patience=recipe.early_stopping))
    # The guard runs first so a NaN batch stops the epoch; plateau must see the
    # epoch before the checkpoint records its state.
    extra.append(RunCheckpoint(ckpt_dir, monitor=val_monitor, plateau=plateau, state=state))
    return guard, meter, [guard, meter, *extra]


def train(recipe: Recipe, *, backend: str, data_dir, run_dir, resume: bool = False,
          seed: int = 0, verbose="auto", cluster: Cluster | None = None) -> RunResult:
    """Train `recipe` on `data_dir`, writing everything into `run_dir`.

    With `resume=True` an interrupted run continues from its last finished
    epoch (model, optimizer, schedule, history) up to `recipe.epochs`.
    Raises `Diverged` if the loss turns NaN/inf (the last good checkpoint stays).
    `cluster` (from `zoo.training.distribute.setup`) says how many devices share
    each batch; only its chief process writes `run_dir`.
    """
    from data_tools.pipeline import LabelSpace, load_rows, make_dataset

    started = time.time()
    run_dir = Path(run_dir)
    cluster = cluster or Cluster(num_devices=1)
    check_batch(recipe.batch_size, cluster)
    shape = zoo.check_input_shape(recipe.model, (recipe.image_size, recipe.image_size, 3))
    rows = load_rows(data_dir)
    # With --resume and no finished epoch yet, the run starts over in the same folder.
    state = read_state(run_dir) if resume else None
    if not resume and (run_dir / "config.json").exists():
        raise ValueError(f"run folder {run_dir} already holds a run; pass --resume or another --out")
    if cluster.is_chief:
        run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    if recipe.mixed_precision:
        keras.mixed_precision.set_dtype_policy("mixed_bfloat16")

    if state:
        config = json.loads((run_dir / "config.json").read_text())
        labels = LabelSpace(**{k: tuple(v) if isinstance(v, list) else v for k, v in config["labels"].items()})
    else:
        labels = LabelSpace.from_rows(rows)
    n_train = sum(r["split"] == "train" for r in rows)
    if n_train == 0:
        raise ValueError(f"{data_dir}: the manifest has no training images")
    size = (recipe.image_size, recipe.image_size)
    local_batch = recipe.batch_size // cluster.num_processes  # the global batch is split per process
    train_ds = make_dataset(data_dir, "train", labels, image_size=size, batch_size=local_batch,
                            shuffle=True, augment=recipe.augment, mix=recipe.mix,
                            balanced=recipe.balanced, seed=seed, repeat=recipe.balanced,
                            shard=cluster.shard)
    val_ds = make_dataset(data_dir, "val", labels, image_size=size, batch_size=local_batch,
                          shard=cluster.shard)
    steps = math.ceil(n_train / recipe.batch_size)

    if state:
        model = zoo.load_model(run_dir / "checkpoints" / state["checkpoint"])
        initial_epoch = state["epoch"]
    else:
        model = zoo.build(recipe.model, tasks=head_tasks(labels), input_shape=shape,
                          weights=recipe.weights, dropout=recipe.dropout,
                          target_scaling={"year": (labels.year_mean, labels.year_std)},
                          image_filter=recipe.image_filter, bn_momentum=recipe.bn_momentum)
        compile_model(model, recipe, steps)
        if cluster.is_chief:
            config = _config(recipe, backend, data_dir, seed, labels, cluster)
            write_atomic(run_dir / "config.json", json.dumps(config, indent=1))
        initial_epoch = 0

    # Saving a distributed model is collective, so every process saves; only the
    # chief's copy lands in run_dir, the workers' go to a scratch folder.
    ckpt_dir = run_dir if cluster.is_chief else Path(tempfile.mkdtemp(prefix="zoo-worker-"))
    guard, meter, callbacks = _callbacks(recipe, run_dir, ckpt_dir, state, "val_loss", cluster.is_chief)
    if initial_epoch < recipe.epochs:
        model.fit(train_ds, validation_data=val_ds, epochs=recipe.epochs, initial_epoch=initial_epoch,
                  steps_per_epoch=steps if recipe.balanced else None, callbacks=callbacks, verbose=verbose, shuffle=False)
    if guard.diverged:
        epoch, step, loss = guard.diverged
        kept = read_state(run_dir)
        last = f"last good checkpoint: {run_dir}/checkpoints/{kept['checkpoint']}" if kept else "no epoch finished"
        raise Diverged(
            f"training diverged at epoch {epoch}, step {step} (loss={loss}); {last}; "
            f"try a lower --lr (now {recipe.lr:g}) or keep gradient clipping on (clipnorm={recipe.clipnorm})"
        )
    if not cluster.is_chief:
        shutil.rmtree(ckpt_dir, ignore_errors=True)
        return RunResult(run_dir, {}, recipe.epochs, time.time() - started)
    keras.distribution.set_distribution(None)  # the chief evaluates alone, on local devices
    if meter.images_per_s:
        write_atomic(run_dir / "throughput.json", json.dumps({"train_img_s": meter.images_per_s}))
    return finish(run_dir, data_dir, labels, size, recipe.batch_size, started)


def finish(run_dir: Path, data_dir, labels, size, batch_size, started) -> RunResult:
    """Export the best model, evaluate it on the test split, and draw the pictures."""
    from data_tools.pipeline import make_dataset

    best = run_dir / "checkpoints" / "best.keras"
    shutil.copyfile(best, run_dir / "model.keras.tmp")
    (run_dir / "model.keras.tmp").replace(run_dir / "model.keras")
    model = zoo.load_model(run_dir / "model.keras", compile=False)
    test_ds = make_dataset(data_dir, "test", labels, image_size=size, batch_size=batch_size)
    metrics = evaluate_into(model, test_ds, labels, run_dir, split="test")
    state = read_state(run_dir)
    plots.plot_curves(state["history"], run_dir / "curves.png")
    return RunResult(run_dir, metrics, state["epoch"], time.time() - started)


def evaluate_into(model, dataset, labels, out_dir: Path, *, split: str) -> dict:
    """Metrics of `model` on `dataset` -> `metrics.json` and `confusion_matrix.png` in out_dir."""
    preds, targets, weights, infer_img_s = evaluation.collect_predictions(model, dataset)
    metrics = {"split": split, **evaluation.compute_metrics(preds, targets, weights, labels.artists),
               "infer_img_s": infer_img_s}
    write_atomic(out_dir / "metrics.json", json.dumps(metrics, indent=1))
    if "artist" in preds:
        matrix = evaluation.confusion_matrix(preds, targets, weights, len(labels.artists))
        plots.plot_confusion(matrix, labels.artists, out_dir / "confusion_matrix.png",
                             title=f"artist confusion ({split} split)")
    return metrics
