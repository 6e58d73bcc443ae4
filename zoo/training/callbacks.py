"""Callbacks that keras.callbacks lacks: a divergence guard, a crash-safe run checkpoint,
a resumable ReduceLROnPlateau and a one-line-per-epoch log."""

import csv
import json
import math
import os
import sys
import time
from pathlib import Path

import keras
import numpy as np

BEST_WEIGHTS = "best.weights.npz"  # in RUN/checkpoints: the weights of the best epoch


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so a reader sees the old file or the new one, never half of it."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_csv_atomic(path: Path, rows: list[dict]) -> None:
    """Atomically write dict rows as CSV (columns: union of keys, first row's order first)."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


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

    After every finished epoch with a finite loss, in this order:
      1. `checkpoints/epoch_NNNN.keras` (model + optimizer state), via a temp file;
      2. `checkpoints/best.weights.npz` (weights only) when `monitor` improved;
      3. `history.csv` (one row per epoch, `epoch` 1-based);
      4. `checkpoints/state.json`, the commit point naming the checkpoint;
      5. the previous epoch's file is deleted.
    A run killed at any moment resumes from the checkpoint in state.json, so
    the folder holds one resumable checkpoint and one weights file.
    """

    def __init__(self, run_dir, monitor="val_loss", plateau=None, state=None):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.ckpt_dir = self.run_dir / "checkpoints"
        self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        self.monitor = monitor
        self.plateau = plateau
        state = state or {}
        self.history = list(state.get("history", []))
        self.best = state.get("best", math.inf)

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items()}
        if not math.isfinite(logs.get("loss", math.nan)):
            return  # never checkpoint a diverged model
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        name = f"epoch_{epoch + 1:04d}.keras"
        self._save(self.ckpt_dir / name)
        value = logs.get(self.monitor, logs["loss"])
        if value < self.best:
            self.best = value
            save_weights(self.model, self.ckpt_dir / BEST_WEIGHTS)
        self.history.append({"epoch": epoch + 1, **logs})
        write_csv_atomic(self.run_dir / "history.csv", self.history)
        state = {"epoch": epoch + 1, "checkpoint": name, "best": self.best, "history": self.history}
        if self.plateau is not None:
            state["plateau"] = self.plateau.state()
        write_atomic(self.ckpt_dir / "state.json", json.dumps(state, indent=1))
        for old in self.ckpt_dir.glob("epoch_*.keras"):
            if old.name != name:
                old.unlink()

    def _save(self, path: Path):
        tmp = path.with_name(path.stem + ".tmp.keras")  # keras wants a .keras suffix
        self.model.save(tmp)
        os.replace(tmp, path)


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


def save_weights(model: keras.Model, path: Path) -> None:
    """`model.get_weights()` (no optimizer state) as an .npz, atomically.

    Hand-written: Keras 3's `model.save_weights` also stores the variables of the
    optimizer the model tracks, as large as a full Adam checkpoint.
    """
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, *model.get_weights())
    os.replace(tmp, path)


def load_weights(model: keras.Model, path: Path) -> None:
    """Set `model`'s weights from a `save_weights` file."""
    with np.load(path) as arrays:
        model.set_weights([arrays[f"arr_{i}"] for i in range(len(arrays.files))])


def read_state(run_dir) -> dict | None:
    """The committed state of a run folder, or None if no epoch has finished."""
    path = Path(run_dir) / "checkpoints" / "state.json"
    return json.loads(path.read_text()) if path.exists() else None


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
