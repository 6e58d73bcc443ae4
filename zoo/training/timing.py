"""Where a training process's wall time goes: `RUN/timings.json`.

Phases (seconds, this process only; a resumed run records its own):
  data         manifest rows and the tf.data pipelines
  build        model build (or checkpoint load), compile, optimizer and metric variables
  fit_start    `fit` up to its first epoch: data adapter, callbacks' on_train_begin (TensorBoard)
  first_step   the first training batch of a fit: tracing/compiling the train step + one step
  train_steps  every other training batch
  validation   validation passes (the first one also compiles the test step)
  epoch_end    the callbacks after validation: checkpoint, best weights, logs
  calibrate    temperatures, conformal and unknown-artist thresholds on the validation split
  export       `model.keras` from the best epoch
  test         test-split predictions (compiles the predict step), metrics and plots
`other` is the rest of `train()` (argument checks, config, callbacks); process start-up
(interpreter, imports) is outside `train()`: `zoo compare` gets it as the cell's wall time
minus `total_s`.
"""

import json
import time
from contextlib import contextmanager
from pathlib import Path

import keras

from data_tools.files import write_atomic

PHASES = ("data", "build", "fit_start", "first_step", "train_steps", "validation", "epoch_end", "calibrate",
          "export", "test", "other")


class PhaseClock:
    """Accumulates seconds per phase name; `timed(name)` is a context manager."""

    def __init__(self):
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self.started = time.perf_counter()

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] += seconds

    @contextmanager
    def timed(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def callback(self) -> "FitPhases":
        """A Keras callback that splits `fit` into its phases; put it last in the list
        so `epoch_end` covers the other callbacks' end-of-epoch work."""
        return FitPhases(self)

    def write(self, path: Path, **extra) -> None:
        """`path` (timings.json): {**extra, "total_s": seconds since this clock started,
        "phases_s": {phase: seconds}}, `other` being the total's remainder."""
        total = time.perf_counter() - self.started
        self.seconds["other"] = max(0.0, total - sum(v for k, v in self.seconds.items() if k != "other"))
        phases = {k: round(v, 3) for k, v in self.seconds.items()}
        write_atomic(path, json.dumps({**extra, "total_s": round(total, 3), "phases_s": phases}, indent=1))


class FitPhases(keras.callbacks.Callback):
    """Charges the time between `fit`'s events to first_step / train_steps / validation /
    epoch_end of a PhaseClock (Keras converts each batch's logs to numbers before the
    batch-end callbacks run, so a batch's time includes its computation)."""

    def __init__(self, clock: PhaseClock):
        super().__init__()
        self.clock = clock
        self._last = 0.0
        self._first = True

    def _charge(self, name: str) -> None:
        now = time.perf_counter()
        self.clock.add(name, now - self._last)
        self._last = now

    def on_train_begin(self, logs=None):
        self._first = True  # each fit call compiles its own train step
        self._last = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._charge("fit_start" if self._first else "epoch_end")

    def on_train_batch_end(self, batch, logs=None):
        self._charge("first_step" if self._first else "train_steps")
        self._first = False

    def on_test_begin(self, logs=None):
        self._charge("train_steps")

    def on_test_end(self, logs=None):
        self._charge("validation")

    def on_epoch_end(self, epoch, logs=None):
        self._charge("epoch_end")
