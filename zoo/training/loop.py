"""The one training loop: a recipe + a data folder -> a complete run folder.

Every model and backend goes through `train()`, which is plain `model.fit`
with Keras callbacks. Data comes from `data_tools.pipeline` (tf.data, which
feeds all three backends).
"""

import json
import math
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import keras

import zoo
from recipes import Recipe
from zoo.study.flops import count_flops
from zoo.training import finetune, plots, precision
from zoo.training.callbacks import (
    BEST_WEIGHTS,
    DivergenceGuard,
    EpochLog,
    ResumablePlateau,
    RunCheckpoint,
    ThroughputMeter,
    load_weights,
    read_state,
    write_atomic,
)
from zoo.training.distribute import Cluster, check_batch
from zoo.training.evaluation import evaluate_into
from zoo.training.losses import ScaledHuber
from zoo.training.precision import Precision
from zoo.training.timing import PhaseClock


class Diverged(RuntimeError):
    """The loss became NaN/inf; the message says where and what to try."""


@dataclass
class RunResult:
    run_dir: Path
    metrics: dict
    epochs_done: int
    wall_s: float


def make_schedule(recipe: Recipe, steps_per_epoch: int) -> keras.optimizers.schedules.CosineDecay:
    """Linear warm-up to `recipe.lr` over `warmup_epochs`, then cosine decay to 0 at `epochs`.

    A resumed run with another `--epochs` gets this curve rebuilt for the new
    length and continues at its optimizer's step (`train`).
    """
    warmup = int(recipe.warmup_epochs * steps_per_epoch)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else recipe.lr,
        decay_steps=max(1, recipe.epochs * steps_per_epoch - warmup),
        warmup_target=recipe.lr if warmup else None,
        warmup_steps=warmup,
    )


def fit_warmup(recipe: Recipe) -> Recipe:
    """`recipe` with its cosine warm-up cut to half the run when it would take longer,
    so a short run still reaches the peak learning rate; says so on stderr."""
    if recipe.schedule != "cosine" or recipe.warmup_epochs <= recipe.epochs / 2:
        return recipe
    warmup = recipe.epochs / 2
    print(f"warning: {recipe.epochs} epoch(s) are too few for the recipe's {recipe.warmup_epochs:g} "
          f"warm-up epochs; warm-up shortened to {warmup:g} so the peak lr {recipe.lr:g} is reached",
          file=sys.stderr, flush=True)
    return recipe.replace(warmup_epochs=warmup)


def check_resumable(recipe: Recipe, recorded: dict, run_dir) -> Recipe:
    """`recipe` with the run's recorded warm-up; ValueError unless it is the recorded
    recipe otherwise (only `epochs` may differ)."""
    recorded = {**Recipe().to_dict(), **recorded}  # fields added since the run began: their defaults
    differ = [k for k, v in recipe.to_dict().items()
              if k not in ("epochs", "warmup_epochs") and recorded.get(k) != v]
    if differ:
        raise ValueError(f"run {run_dir} was trained with another recipe ({', '.join(differ)} differ); "
                         f"a resumed run keeps its recipe, only epochs may change")
    return recipe.replace(warmup_epochs=recorded["warmup_epochs"])


def images_per_step(recipe: Recipe) -> int:
    """Images in one training step: `batch_size / accumulate` (one update per `batch_size`)."""
    if recipe.accumulate < 1 or recipe.batch_size % recipe.accumulate:
        raise ValueError(f"--batch-size {recipe.batch_size} must be divisible by --accumulate "
                         f"{recipe.accumulate} (each step takes batch-size / accumulate images)")
    return recipe.batch_size // recipe.accumulate


def run_precision(recipe: Recipe, recorded: dict | None) -> Precision:
    """The precision of a run: a resumed run's recorded one (its checkpoint computes in that
    policy, whatever this machine's `auto` says), else `recipe.precision` resolved here."""
    if recorded and "precision" in recorded:
        kept = recorded["precision"]
        name = {v: k for k, v in precision.POLICIES.items()}[kept["policy"]]
        return Precision(kept["requested"], name, kept["policy"], f"recorded: {kept['reason']}")
    return precision.resolve(recipe.precision)


def make_optimizer(recipe: Recipe, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The recipe's optimizer with its schedule and global-norm clipping."""
    lr = recipe.lr
    if recipe.schedule == "cosine":
        lr = make_schedule(recipe, steps_per_epoch)
    elif recipe.schedule != "plateau":
        raise ValueError(f"recipe schedule {recipe.schedule!r}: valid are plateau, cosine")
    kwargs = {"learning_rate": lr, "global_clipnorm": recipe.clipnorm,
              # one update per `accumulate` steps, from their mean gradient; the schedule counts steps
              "gradient_accumulation_steps": recipe.accumulate if recipe.accumulate > 1 else None}
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(**kwargs)
    if recipe.optimizer == "adamw":
        return keras.optimizers.AdamW(weight_decay=recipe.weight_decay, **kwargs)
    if recipe.optimizer == "sgd":
        return keras.optimizers.SGD(momentum=0.9, nesterov=True, **kwargs)
    raise ValueError(f"recipe optimizer {recipe.optimizer!r}: valid are adam, adamw, sgd")


def compile_model(model: keras.Model, recipe: Recipe, steps_per_epoch: int, previous=None,
                  resumed_at=None) -> None:
    """Losses per head (cross-entropy / scaled Huber), masked metrics, loss weights.

    Fine-tuning recipes get per-variable learning rates (`finetune.scaled_optimizer`);
    `previous`: the frozen phase's optimizer, whose schedule the new one continues;
    `resumed_at`: (global step, lr) of a resumed frozen phase (`finetune.resume_frozen`).

    Each head's loss is the mean over the samples whose label is known (sample
    weight > 0), so missing labels change neither a head's scale nor `val_loss`.
    """
    losses, metrics = {}, {}
    known = "mean_with_sample_weight"  # sum(weight * loss) / sum(weight), per head and batch
    for name in model.output_names:
        head = model.get_layer(name)
        if head.is_regression:
            losses[name] = ScaledHuber(head.center, head.scale, reduction=known)
            metrics[name] = [keras.metrics.MeanAbsoluteError(name="mae")]
        else:
            losses[name] = keras.losses.CategoricalCrossentropy(
                label_smoothing=recipe.label_smoothing, reduction=known)
            metrics[name] = [keras.metrics.CategoricalAccuracy(name="top1")]
            if name == "artist":  # k capped: torch's top-k fails when k > classes
                k = min(5, len(head.class_names))
                metrics[name].append(keras.metrics.TopKCategoricalAccuracy(k, name="top5"))
    model.compile(
        optimizer=finetune.scaled_optimizer(make_optimizer(recipe, steps_per_epoch), recipe, model,
                                            previous=previous, resumed_at=resumed_at),
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
        "labels": labels.to_json(),
        "versions": {"python": platform.python_version(), "keras": keras.__version__,
                     lib: __import__(lib).__version__},
    }


def build_state(model: keras.Model, dataset) -> None:
    """Create the compiled model's loss trackers, metrics and optimizer variables before `fit`.

    Keras' JAX and torch trainers do this (`Trainer._symbolic_build`, from the data's
    shapes) at the start of `fit`; its TensorFlow trainer skips it without a tf.distribute
    strategy, so they are created inside the first traced train step and tf.function traces
    the whole step a second time (half of a TensorFlow cell's compile time in `zoo compare`).
    Private Keras API (pinned in constraints.txt); the same call Keras makes on the other backends.
    """
    model._symbolic_build(data_batch=dataset.element_spec)


def _callbacks(recipe, run_dir, ckpt_dir, state, val_monitor, chief, clock, lines=False):
    guard = DivergenceGuard()
    meter = ThroughputMeter(images_per_step(recipe))
    plateau = None
    extra = [keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard"), write_graph=False)] if chief else []
    if recipe.schedule == "plateau":
        plateau = ResumablePlateau(monitor=val_monitor, factor=0.5, patience=3, min_lr=1e-7,
                                   restored=(state or {}).get("plateau"))
        extra.append(plateau)
    if recipe.early_stopping:
        extra.append(keras.callbacks.EarlyStopping(monitor=val_monitor, patience=recipe.early_stopping))
    # The guard runs first so a NaN batch stops the epoch; plateau must see the
    # epoch before the checkpoint records its state.
    extra.append(RunCheckpoint(ckpt_dir, monitor=val_monitor, plateau=plateau, state=state))
    if lines and chief:
        extra.append(EpochLog(recipe.epochs))
    return guard, meter, [guard, meter, *extra, clock.callback()]


def train(recipe: Recipe, *, backend: str, data_dir, run_dir, resume: bool = False,
          seed: int = 0, verbose="auto", cluster: Cluster | None = None) -> RunResult:
    """Train `recipe` on `data_dir`, writing everything into `run_dir`.

    With `resume=True` an interrupted run continues from its last finished
    epoch (model, optimizer, schedule, history) up to `recipe.epochs`, which may
    differ from the recorded one (`zoo.training.resume` checks the rest).
    `verbose="auto"` shows Keras' progress bar on a terminal and one line per
    epoch otherwise (log files).
    Raises `Diverged` if the loss turns NaN/inf (the last good checkpoint stays).
    `cluster` (from `zoo.training.distribute.setup`) says how many devices share
    each batch; only its chief process writes `run_dir`.
    """
    from data_tools.labels import LabelSpace
    from data_tools.pipeline import load_rows, make_dataset

    started = time.time()
    clock = PhaseClock()
    run_dir = Path(run_dir)
    cluster = cluster or Cluster(num_devices=1)
    step_batch = images_per_step(recipe)
    check_batch(step_batch, cluster)
    shape = zoo.check_input_shape(recipe.model, (recipe.image_size, recipe.image_size, 3))
    # With --resume and no finished epoch yet, the run starts over in the same folder.
    state = read_state(run_dir) if resume else None
    if not state:
        finetune.check_weights(recipe, shape)  # offline ImageNet etc.: one line before any data is read
    with clock.timed("data"):
        rows = load_rows(data_dir)
    if not resume and (run_dir / "config.json").exists():
        raise ValueError(f"run folder {run_dir} already holds a run; pass --resume or another --out")
    if cluster.is_chief:
        run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    keras.mixed_precision.set_dtype_policy("float32")  # the input pipeline's Keras layers (MixUp...)

    if state:
        config = json.loads((run_dir / "config.json").read_text())
        recipe = check_resumable(recipe, config["recipe"], run_dir)
        labels = LabelSpace.from_json(config["labels"])
    else:
        recipe = fit_warmup(recipe)
        labels = LabelSpace.from_rows(rows)
    chosen = run_precision(recipe, config if state else None)
    if cluster.is_chief:
        print(f"precision: {chosen.policy} ({chosen.reason})", flush=True)
    n_train = sum(r["split"] == "train" for r in rows)
    if n_train == 0:
        raise ValueError(f"{data_dir}: the manifest has no training images")
    size = (recipe.image_size, recipe.image_size)
    local_batch = step_batch // cluster.num_processes  # the global batch is split per process
    # Distributed: pad each split with weight-0 rows to whole global batches, so every
    # process runs the same steps and every device gets an equal slice of each batch.
    pad_to = step_batch if max(cluster.num_devices, cluster.num_processes) > 1 else 1
    with clock.timed("data"):
        train_ds = make_dataset(data_dir, "train", labels, image_size=size, batch_size=local_batch,
                                shuffle=True, augment=recipe.augment, mix=recipe.mix,
                                balanced=recipe.balanced, seed=seed, repeat=recipe.balanced,
                                shard=cluster.shard, pad_to=pad_to)
        val_ds = make_dataset(data_dir, "val", labels, image_size=size, batch_size=local_batch,
                              shard=cluster.shard, pad_to=pad_to) if recipe.validate else None
    steps = math.ceil(n_train / step_batch)  # steps per epoch; the optimizer updates every `accumulate`
    keras.mixed_precision.set_dtype_policy(chosen.policy)  # after the pipeline, before the model

    with clock.timed("build"):
        model = _restore_model(run_dir, state, recipe, steps) if state else _new_model(recipe, labels, shape, steps)
    initial_epoch = state["epoch"] if state else 0
    if state and config["recipe"] != recipe.to_dict():
        config["resumed"] = [*config.get("resumed", []), {"at_epoch": initial_epoch, "epochs": recipe.epochs}]
        config["recipe"] = recipe.to_dict()
    elif not state:
        config = _config(recipe, backend, data_dir, seed, labels, cluster)
        config["precision"] = {"requested": chosen.requested, "policy": chosen.policy, "reason": chosen.reason}
    if cluster.is_chief:
        write_atomic(run_dir / "config.json", json.dumps(config, indent=1))

    # Saving a distributed model is collective, so every process saves; only the
    # chief's copy lands in run_dir, the workers' go to a scratch folder.
    ckpt_dir = run_dir if cluster.is_chief else Path(tempfile.mkdtemp(prefix="zoo-worker-"))
    lines = verbose == "auto" and not sys.stdout.isatty()
    monitor = "val_loss" if recipe.validate else "loss"  # best epoch, plateau, early stopping
    guard, meter, callbacks = _callbacks(recipe, run_dir, ckpt_dir, state, monitor, cluster.is_chief,
                                         clock, lines)
    freeze = finetune.freeze_epochs(recipe)  # phase 1: heads only; phase 2: the whole network
    for start, stop in ((initial_epoch, freeze), (max(initial_epoch, freeze), recipe.epochs)):
        if start >= stop or guard.diverged or model.stop_training:
            continue
        if start >= freeze and not model.backbone.trainable:
            finetune.freeze_backbone(model, False)
            compile_model(model, recipe, steps, previous=model.optimizer)
        with clock.timed("build"):
            build_state(model, train_ds)
        model.fit(train_ds, validation_data=val_ds, epochs=stop, initial_epoch=start,
                  steps_per_epoch=steps if recipe.balanced else None, callbacks=callbacks,
                  verbose=0 if lines else verbose, shuffle=False)
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
    result = finish(run_dir, data_dir, labels, size, recipe.batch_size, started, clock)
    clock.write(run_dir / "timings.json", train_img_s=meter.images_per_s)
    return result


def _new_model(recipe: Recipe, labels, shape, steps: int) -> keras.Model:
    """`recipe.model` with heads for `labels`, from the recipe's weights, compiled; the
    backbone frozen when the recipe starts with a frozen phase."""
    model = zoo.build(recipe.model, tasks=labels, input_shape=shape,
                      weights=finetune.build_weights(recipe.weights), dropout=recipe.dropout,
                      image_filter=recipe.image_filter,
                      bn_momentum=finetune.bn_momentum(recipe.bn_momentum, steps))
    if finetune.is_run_model(recipe.weights):
        finetune.load_run_weights(model, recipe.weights)
    finetune.freeze_backbone(model, finetune.freeze_epochs(recipe) > 0)
    compile_model(model, recipe, steps)
    return model


def _restore_model(run_dir: Path, state: dict, recipe: Recipe, steps: int) -> keras.Model:
    """The checkpoint `state` names, with its optimizer; the cosine schedule rebuilt for
    `recipe.epochs` (a resume may change them) and a frozen phase re-frozen."""
    model = zoo.load_model(run_dir / "checkpoints" / state["checkpoint"])
    if recipe.schedule == "cosine":
        model.optimizer.learning_rate = finetune.continued(model.optimizer, make_schedule(recipe, steps))
    if state["epoch"] < finetune.freeze_epochs(recipe):
        finetune.resume_frozen(model, recipe, state, steps, compile_model)
    return model


def finish(run_dir: Path, data_dir, labels, size, batch_size, started, clock: PhaseClock) -> RunResult:
    """Export the best model, evaluate it on the test split, and draw the pictures."""
    from data_tools.pipeline import make_dataset

    state = read_state(run_dir)
    with clock.timed("export"):
        model = export_best(run_dir, state)
    with clock.timed("test"):
        test_ds = make_dataset(data_dir, "test", labels, image_size=size, batch_size=batch_size)
        size_stats = {"params": int(model.count_params()), "gflops": count_flops(model) / 1e9}
        metrics = evaluate_into(model, test_ds, labels, run_dir, split="test", extra=size_stats)
        plots.plot_curves(state["history"], run_dir / "curves.png")
    return RunResult(run_dir, metrics, state["epoch"], time.time() - started)


def export_best(run_dir: Path, state: dict) -> keras.Model:
    """`RUN/model.keras`: the architecture of the checkpoint `state` (checkpoints/state.json)
    names, with the best epoch's weights, without optimizer state (a third of an Adam
    checkpoint's size). Returns the model."""
    model = zoo.load_model(run_dir / "checkpoints" / state["checkpoint"], compile=False)
    load_weights(model, run_dir / "checkpoints" / BEST_WEIGHTS)
    tmp = run_dir / "model.tmp.keras"  # keras wants a .keras suffix
    model.save(tmp)
    tmp.replace(run_dir / "model.keras")
    return model
