"""The one training loop: a recipe + a data folder -> a complete run folder.

Every model and backend goes through `train()`, which is plain `model.fit`
with Keras callbacks. Data comes from `data_tools.pipeline` (tf.data, which
feeds all three backends).
"""

import math
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import keras

import zoo
from data_tools import protocol
from data_tools.labels import PRIMARY, LabelSpace
from recipes import Recipe
from zoo.artist_model import ArtistModel
from zoo.run_folder import RunFolder, RunState
from zoo.training import evaluation, finetune, plots
from zoo.training.calibrate import calibrate, calibration_options
from zoo.training.callbacks import (
    DivergenceGuard,
    EpochLog,
    ResumablePlateau,
    RunCheckpoint,
    ThroughputMeter,
)
from zoo.training.distribute import Cluster, check_batch
from zoo.training.flops import count_flops
from zoo.training.losses import ScaledHuber
from zoo.training.plan import Start, plan
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


def images_per_step(recipe: Recipe) -> int:
    """Images in one training step: `batch_size / accumulate` (one update per `batch_size`)."""
    if recipe.accumulate < 1 or recipe.batch_size % recipe.accumulate:
        raise ValueError(f"--batch-size {recipe.batch_size} must be divisible by --accumulate "
                         f"{recipe.accumulate} (each step takes batch-size / accumulate images)")
    return recipe.batch_size // recipe.accumulate


def make_optimizer(recipe: Recipe, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The recipe's optimizer with its schedule and global-norm clipping."""
    lr = recipe.lr
    if recipe.schedule == "cosine":
        lr = make_schedule(recipe, steps_per_epoch)
    elif recipe.schedule != "plateau":
        raise ValueError(f"recipe schedule {recipe.schedule!r}: valid are plateau, cosine")
    kwargs = {"learning_rate": lr, "global_clipnorm": recipe.clipnorm,
              # one update per `accumulate` steps, from their mean gradient; the schedule counts steps
              "gradient_accumulation_steps": recipe.accumulate if recipe.accumulate > 1 else None,
              **finetune.ema_options(recipe)}
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
    `resumed_at`: (global step, lr) of a resumed frozen phase (`_restore_model`).

    Each head's loss is the mean over the samples whose label is known (sample
    weight > 0), so missing labels change neither a head's scale nor `val_loss`.
    """
    losses, metrics = {}, {}
    known = "mean_with_sample_weight"  # sum(weight * loss) / sum(weight), per head and batch
    for name, head in model.heads.items():
        if head.is_regression:
            losses[name] = ScaledHuber(head.center, head.scale, reduction=known)
            metrics[name] = [keras.metrics.MeanAbsoluteError(name="mae")]
        else:
            losses[name] = keras.losses.CategoricalCrossentropy(
                label_smoothing=recipe.label_smoothing, reduction=known)
            metrics[name] = [keras.metrics.CategoricalAccuracy(name="top1")]
            if name == PRIMARY and len(head.class_names) > evaluation.TOP_K:  # else always 1
                metrics[name].append(keras.metrics.TopKCategoricalAccuracy(
                    evaluation.TOP_K, name=f"top{evaluation.TOP_K}"))
    model.compile(
        optimizer=finetune.scaled_optimizer(make_optimizer(recipe, steps_per_epoch), recipe, model,
                                            previous=previous, resumed_at=resumed_at),
        loss=losses,
        loss_weights={n: recipe.loss_weight(n) for n in model.output_names},  # default_loss_weight for unnamed heads
        weighted_metrics=metrics,  # weighted: missing labels carry weight 0
    )


def build_state(model: keras.Model, dataset) -> None:
    """Create the compiled model's loss trackers, metrics and optimizer variables before `fit`.

    Keras' JAX and torch trainers do this (`Trainer._symbolic_build`, from the data's
    shapes) at the start of `fit`; its TensorFlow trainer skips it without a tf.distribute
    strategy, so they are created inside the first traced train step and tf.function traces
    the whole step a second time (half of a TensorFlow cell's compile time in `zoo compare`).
    Private Keras API (pinned in constraints.txt); the same call Keras makes on the other backends.
    """
    model._symbolic_build(data_batch=dataset.element_spec)


def train(recipe: Recipe, *, backend: str, data_dir, run_dir, resume: bool = False,
          seed: int = 0, verbose="auto", cluster: Cluster | None = None) -> RunResult:
    """Train `recipe` on `data_dir`, writing everything into `run_dir` (`zoo.run_folder`).

    With `resume=True` an interrupted run continues from its last finished
    epoch (model, optimizer, schedule, history) up to `recipe.epochs`, which may
    differ from the recorded one (`RunFolder.resume_plan` refuses other changes).
    `verbose="auto"` shows Keras' progress bar on a terminal and one line per
    epoch otherwise (log files).
    Raises `Diverged` if the loss turns NaN/inf (the last good checkpoint stays).
    `cluster` (from `zoo.training.distribute.setup`) says how many devices share
    each batch; only its chief process writes `run_dir`.
    """
    started, clock = time.time(), PhaseClock()
    folder, cluster = RunFolder(run_dir), cluster or Cluster(num_devices=1)
    check_batch(images_per_step(recipe), cluster)
    start = plan(folder, recipe, data_dir, resume=resume, backend=backend, seed=seed, cluster=cluster,
                 clock=clock)
    recipe = start.recipe
    if cluster.is_chief:
        folder.path.mkdir(parents=True, exist_ok=True)
        print(f"precision: {start.precision.policy} ({start.precision.reason})", flush=True)
    keras.utils.set_random_seed(seed)
    train_ds, val_ds, steps = _datasets(start, data_dir, cluster, seed, clock)
    # The momentum given to BatchNorm layers (null: Keras' 0.99); the recipe keeps what was asked ("auto").
    start.config.setdefault("bn_momentum_used", finetune.bn_momentum(recipe.bn_momentum, steps))

    with clock.timed("build"):
        model = _restore_model(folder, start.state, recipe, steps) if start.state else \
            _new_model(recipe, start.labels, start.input_shape, start.config["bn_momentum_used"], steps)
    if cluster.is_chief:
        folder.write_config(start.config)
    guard, meter = _fit_phases(model, start, train_ds, val_ds, steps, folder, cluster, clock,
                               lines=verbose == "auto" and not sys.stdout.isatty(), verbose=verbose)
    if guard.diverged:
        epoch, step, loss = guard.diverged
        kept = folder.read_state()
        last = f"last good checkpoint: {folder.checkpoint_path(kept)}" if kept else "no epoch finished"
        raise Diverged(
            f"training diverged at epoch {epoch}, step {step} (loss={loss}); {last}; "
            f"try a lower --lr (now {recipe.lr:g}) or keep gradient clipping on (clipnorm={recipe.clipnorm})"
        )
    if not cluster.is_chief:
        return RunResult(folder.path, {}, recipe.epochs, time.time() - started)
    keras.distribution.set_distribution(None)  # the chief evaluates alone, on local devices
    result = finish(folder, data_dir, start.labels, recipe, started, clock)
    clock.write(folder.timings_path, train_img_s=meter.images_per_s)
    return result


def _datasets(start: Start, data_dir, cluster: Cluster, seed: int, clock: PhaseClock):
    """(train, val or None, steps per epoch) tf.data pipelines of this process, under the
    float32 policy (their Keras layers: MixUp...); then the run's policy is set for the model."""
    from data_tools.pipeline import make_dataset

    recipe, step_batch = start.recipe, images_per_step(start.recipe)
    n_train = sum(r["split"] == "train" for r in start.rows)
    if n_train == 0:
        raise ValueError(f"{data_dir}: the manifest has no training images")
    keras.mixed_precision.set_dtype_policy("float32")
    size = (recipe.image_size, recipe.image_size)
    local_batch = step_batch // cluster.num_processes  # the global batch is split per process
    # Distributed: pad each split with weight-0 rows to whole global batches, so every
    # process runs the same steps and every device gets an equal slice of each batch.
    pad_to = step_batch if max(cluster.num_devices, cluster.num_processes) > 1 else 1
    with clock.timed("data"):
        train_ds = make_dataset(data_dir, "train", start.labels, image_size=size, batch_size=local_batch,
                                shuffle=True, augment=recipe.augment, mix=recipe.mix,
                                balanced=recipe.balanced, seed=seed, repeat=recipe.balanced,
                                shard=cluster.shard, pad_to=pad_to, outlier_weight=recipe.outlier_exposure)
        val_ds = make_dataset(data_dir, "val", start.labels, image_size=size, batch_size=local_batch,
                              shard=cluster.shard, pad_to=pad_to) if recipe.validate else None
    keras.mixed_precision.set_dtype_policy(start.precision.policy)  # after the pipeline, before the model
    return train_ds, val_ds, math.ceil(n_train / step_batch)  # the optimizer updates every `accumulate`


def _fit_phases(model, start: Start, train_ds, val_ds, steps: int, folder: RunFolder, cluster: Cluster,
                clock: PhaseClock, *, lines: bool, verbose):
    """`fit` from the start's epoch through phase 1 (heads only, `freeze_epochs`) and phase 2
    (the whole network); returns the (DivergenceGuard, ThroughputMeter) callbacks."""
    recipe = start.recipe
    # Saving a distributed model is collective, so every process saves; only the
    # chief's copy lands in the run folder, the workers' go to a scratch folder.
    checkpoints = folder if cluster.is_chief else RunFolder(tempfile.mkdtemp(prefix="zoo-worker-"))
    monitor = "val_loss" if recipe.validate else "loss"  # best epoch, plateau, early stopping
    guard, meter, callbacks = _callbacks(recipe, folder, checkpoints, start.state, monitor, cluster.is_chief,
                                         clock, lines)
    freeze = finetune.freeze_epochs(recipe)
    try:
        for begin, stop in ((start.initial_epoch, freeze), (max(start.initial_epoch, freeze), recipe.epochs)):
            if begin >= stop or guard.diverged or model.stop_training:
                continue
            if begin >= freeze and not model.backbone.trainable:
                finetune.freeze_backbone(model, False)
                compile_model(model, recipe, steps, previous=model.optimizer)
            with clock.timed("build"):
                build_state(model, train_ds)
            model.fit(train_ds, validation_data=val_ds, epochs=stop, initial_epoch=begin,
                      steps_per_epoch=steps if recipe.balanced else None, callbacks=callbacks,
                      verbose=0 if lines else verbose, shuffle=False)
    finally:
        if not cluster.is_chief:
            shutil.rmtree(checkpoints.path, ignore_errors=True)
    return guard, meter


def _callbacks(recipe, folder, checkpoints, state, val_monitor, chief, clock, lines=False):
    guard = DivergenceGuard()
    meter = ThroughputMeter(images_per_step(recipe))
    plateau = None
    extra = [keras.callbacks.TensorBoard(log_dir=str(folder.tensorboard), write_graph=False)] if chief else []
    if recipe.schedule == "plateau":
        plateau = ResumablePlateau(monitor=val_monitor, factor=0.5, patience=3, min_lr=1e-7,
                                   restored=state.plateau if state else None)
        extra.append(plateau)
    if recipe.early_stopping:
        extra.append(keras.callbacks.EarlyStopping(monitor=val_monitor, patience=recipe.early_stopping))
    # The guard runs first so a NaN batch stops the epoch; plateau must see the
    # epoch before the checkpoint records its state.
    extra += finetune.ema_callbacks(recipe)  # before the checkpoint: it saves the EMA weights
    extra.append(RunCheckpoint(checkpoints, monitor=val_monitor, plateau=plateau, state=state))
    if lines and chief:
        extra.append(EpochLog(recipe.epochs))
    return guard, meter, [guard, meter, *extra, clock.callback()]


def _new_model(recipe: Recipe, labels: LabelSpace, shape, bn_momentum: float | None, steps: int) -> ArtistModel:
    """`recipe.model` with heads for `labels`, from the recipe's weights, BatchNorm momentum
    `bn_momentum` (None: Keras'), compiled; the backbone frozen when the recipe starts with a
    frozen phase."""
    model = zoo.build(recipe.model, tasks=labels, input_shape=shape,
                      weights=finetune.build_weights(recipe.weights), dropout=recipe.dropout,
                      image_filter=recipe.image_filter, bn_momentum=bn_momentum)
    if finetune.is_run_model(recipe.weights):
        finetune.load_run_weights(model, recipe.weights)
    finetune.freeze_backbone(model, finetune.freeze_epochs(recipe) > 0)
    compile_model(model, recipe, steps)
    return model


def _restore_model(folder: RunFolder, state: RunState, recipe: Recipe, steps: int) -> ArtistModel:
    """The checkpoint `state` names, with its optimizer; the cosine schedule rebuilt for
    `recipe.epochs` (a resume may change them).

    A checkpoint of the frozen phase is re-frozen and recompiled (Keras 3.15 restores
    `trainable=False` on most layers but not on MultiHeadAttention's inner projections,
    so the loaded optimizer is built for the wrong variables and drops its state): the
    heads' optimizer moments restart, the schedule continues at the global step and a
    plateau-reduced learning rate from the state's history.
    """
    model = zoo.load_model(folder.checkpoint_path(state))
    if recipe.schedule == "cosine":
        model.optimizer.learning_rate = finetune.continued(model.optimizer, make_schedule(recipe, steps))
    if state.epoch < finetune.freeze_epochs(recipe):
        finetune.freeze_backbone(model, True)
        compile_model(model, recipe, steps, resumed_at=(state.epoch * steps, state.learning_rate(recipe.lr)))
    return model


def finish(folder: RunFolder, data_dir, labels, recipe: Recipe, started: float, clock: PhaseClock) -> RunResult:
    """model.keras from the best epoch (the architecture of the last checkpoint, the best
    weights, no optimizer state: a third of an Adam checkpoint's size), calibrated on the
    validation split, its test metrics and the pictures."""
    from data_tools.pipeline import load_rows, make_dataset

    state = folder.read_state()
    with clock.timed("export"):
        model = zoo.load_model(folder.checkpoint_path(state), compile=False)
        folder.load_best(model)
    if load_rows(data_dir, "val"):
        with clock.timed("calibrate"):
            val_ds = make_dataset(data_dir, "val", labels, image_size=(recipe.image_size, recipe.image_size),
                                  batch_size=recipe.batch_size)
            calibrate(model, val_ds, **calibration_options(recipe))
    with clock.timed("export"):
        folder.save_model(model)
    with clock.timed("test"):
        test_ds = make_dataset(data_dir, "test", labels, image_size=(recipe.image_size, recipe.image_size),
                               batch_size=recipe.batch_size)
        size_stats = {"params": int(model.count_params()), "gflops": count_flops(model) / 1e9,
                      "protocol": protocol.read(data_dir)["protocol"]}  # e.g. "artgan-artist": the published split
        metrics = evaluation.evaluate_into(model, test_ds, labels, folder.path, split="test", extra=size_stats)
        plots.plot_curves(state.history, folder.curves_path, heads=list(model.heads))
    return RunResult(folder.path, metrics, state.epoch, time.time() - started)
