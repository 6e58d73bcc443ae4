"""The child process of one compare cell (zoo/study/cells.py): one model on one backend, its
seeds one after another, each through `python -m zoo train`'s code path (`zoo.cli.main`).

`python -m zoo.cli.seed_runs 'JSON'` with {"out", "model", "backend", "seeds", "inits": {seed:
file}, "argv": [train flags]}; KERAS_BACKEND is set by the parent. Each seed's run folder gets
its train.log and `cells.SEED_RUN` (exit code, seconds, last error line).
"""

import json
import os
import sys
import tempfile
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

from data_tools.files import write_atomic
from zoo.cli import main
from zoo.study.cells import SEED_RUN, cell_dir


@contextmanager
def _output_to(path: Path):
    """Send this process's stdout and stderr (file descriptors 1 and 2, so native libraries'
    output too) to `path` for the block."""
    sys.stdout.flush(), sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 1), os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            os.dup2(saved[0], 1), os.dup2(saved[1], 2)
            os.close(saved[0]), os.close(saved[1])


def _last_error(log: Path) -> str:
    """The last `error:` line of a seed's log, else its last non-empty line."""
    lines = [s.strip() for s in log.read_text(errors="replace").splitlines() if s.strip()]
    errors = [s for s in lines if s.startswith("error:")]
    return (errors or lines or [""])[-1]


def _jax_cache(folder: Path) -> None:
    """On JAX, keep compiled XLA programs in `folder` so the second seed's identical programs
    (same model, shapes and dtypes; other weights) load instead of compiling again. The folder
    lives only as long as the child, so no later run reuses a compile and reports less."""
    if os.environ.get("KERAS_BACKEND") != "jax":
        return
    import jax  # backend-edge: JAX's persistent compilation cache has no Keras setting

    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def train_seeds(out: str, model: str, backend: str, seeds: list, inits: dict, argv: list) -> None:
    """Child: train `model` on this process's backend for each seed, one after another, from
    `inits[str(seed)]`; each seed's run folder gets its train.log and SEED_RUN."""
    import keras

    with tempfile.TemporaryDirectory(prefix="zoo-xla-cache-") as cache:
        _jax_cache(Path(cache))
        for seed in seeds:
            run = cell_dir(Path(out), model, backend, seed)
            run.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            with _output_to(run / "train.log"):
                try:
                    code = main(["train", "--model", model, "--backend", backend, "--out", str(run),
                                 "--seed", str(seed), "--weights", inits[str(seed)], *argv])
                except Exception:  # not a user mistake: the traceback goes to the log, the next seed runs
                    traceback.print_exc()
                    code = 1
            keras.backend.clear_session()
            write_atomic(run / SEED_RUN, json.dumps({"returncode": code, "wall_s": time.perf_counter() - started,
                                                     "last_error": _last_error(run / "train.log") if code else ""}))


if __name__ == "__main__":
    train_seeds(**json.loads(sys.argv[1]))
