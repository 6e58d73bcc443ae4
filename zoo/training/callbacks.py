"""Callbacks that keras.callbacks lacks: a divergence guard, a crash-safe run checkpoint,
a resumable ReduceLROnPlateau and a one-line-per-epoch log."""

import math
import sys
import time

import keras

from zoo.run_folder import RunFolder, RunState


class DivergenceGuard(keras.callbacks.Callback):
    """Stop training at the first batch whose loss is NaN or infinite.

    Unlike `keras.callbacks.TerminateOnNaN`, it remembers where it happened
    (`self.diverged = (epoch, step, loss)`, epoch 1-based) so the launcher can
    exit non-zero with a useful message.
    """

    def __init__(self):
        super().__init__()
        self.diverged = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        loss = float((logs or {}).get("loss", 0.0))
        if not math.isfinite(loss):
            self.diverged = (self._epoch, batch + 1, loss)
            self.model.stop_training = True


class ResumablePlateau(keras.callbacks.ReduceLROnPlateau):
    """`ReduceLROnPlateau` whose patience counts across `--resume`.

    Keras' `on_train_begin` resets `wait`, `best` and `cooldown_counter`, so
    state set in `__init__` is lost; `restored` (the dict `state()` returned in
    the interrupted run) is applied after that reset.
    """

    KEYS = ("wait", "best", "cooldown_counter")

    def __init__(self, *args, restored: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.restored = dict(restored or {})

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        for key, value in self.restored.items():
            if key in self.KEYS:
                setattr(self, key, int(value) if key != "best" else value)

    def state(self) -> dict:
        """`wait`, `best` (None before the first epoch) and `cooldown_counter`, JSON-ready."""
        return {"wait": int(self.wait), "cooldown_counter": int(self.cooldown_counter),
                "best": None if self.best is None else float(self.best)}


class RunCheckpoint(keras.callbacks.Callback):
    """Crash-safe checkpoints for `--resume`, hand-written because
    `keras.callbacks.ModelCheckpoint` neither writes atomically nor keeps the
    history and scheduler state a resumed run needs.

    After every finished epoch with a finite loss, in this order (`RunFolder` names the files):
      1. the epoch checkpoint (model + optimizer state);
      2. the best weights (weights only) when `monitor` improved;
      3. history.csv (one row per epoch, `epoch` 1-based);
      4. state.json, the commit point naming the checkpoint;
      5. the previous epoch's checkpoint is deleted.
    A run killed at any moment resumes from the checkpoint in state.json, so
    the folder holds one resumable checkpoint and one weights file.
    """

    def __init__(self, folder: RunFolder, monitor="val_loss", plateau=None, state: RunState | None = None):
        super().__init__()
        self.folder = folder
        self.monitor = monitor
        self.plateau = plateau
        self.history = list(state.history) if state else []
        self.best = state.best if state else math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items()}
        if not math.isfinite(logs.get("loss", math.nan)):
            return  # never checkpoint a diverged model
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        name = self.folder.save_checkpoint(self.model, epoch + 1)
        value = logs.get(self.monitor, logs["loss"])
        if value < self.best:
            self.best = value
            self.folder.save_best(self.model)
        self.history.append({"epoch": epoch + 1, **logs})
        self.folder.write_history(self.history)
        plateau = self.plateau.state() if self.plateau is not None else None
        self.folder.write_state(RunState(epoch + 1, name, self.best, self.history, plateau))
        self.folder.prune_checkpoints(keep=name)


class EpochLog(keras.callbacks.Callback):
    """One plain line per epoch (`fit(verbose=0)` when stdout is not a terminal).

    Hand-written: Keras' progress bar writes ANSI colours and backspaces into
    log files, and its verbose=2 prints a header line and a summary per epoch.
    Line: `epoch 3/12 21.4s loss=0.8123 val_loss=0.9012 ... lr=0.000912`.
    """

    def __init__(self, epochs: int, stream=None):
        super().__init__()
        self.epochs, self.stream, self._start = epochs, stream, 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        values = " ".join(f"{k}={float(v):.4g}" for k, v in (logs or {}).items() if k != "learning_rate")
        lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        print(f"epoch {epoch + 1}/{self.epochs} {time.perf_counter() - self._start:.1f}s {values} "
              f"lr={lr:.4g}", file=self.stream or sys.stdout, flush=True)


class ThroughputMeter(keras.callbacks.Callback):
    """Training images/s over all batches after the first `warmup` (which carry compilation).

    `images_per_s` is None until a batch after the warm-up has finished.
    """

    def __init__(self, batch_size: int, warmup: int = 2):
        super().__init__()
        self.batch_size, self.warmup = batch_size, warmup
        self._seen, self._seconds, self._images, self._start = 0, 0.0, 0, None

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._seen += 1
        if self._seen > self.warmup and self._start is not None:
            self._seconds += time.perf_counter() - self._start
            self._images += self.batch_size

    @property
    def images_per_s(self):
        return self._images / self._seconds if self._seconds else None
