"""Choose the Keras backend of a command before keras is imported.

The backend is, in this order: `--backend NAME`; the KERAS_BACKEND variable;
for commands that take a saved model and for `train --resume --out RUN`, the
backend the run recorded (its `config.json`); else DEFAULT_BACKEND.
"""

import os
import sys
from pathlib import Path

from data_tools.usage import UsageError

BACKENDS = ("jax", "tensorflow", "torch")
DEFAULT_BACKEND = "jax"


def add_backend_flag(parser) -> None:
    parser.add_argument("--backend", help=f"{', '.join(BACKENDS)} (default: KERAS_BACKEND, else the "
                        f"run's recorded backend, else {DEFAULT_BACKEND})")


def recorded_backend(run_dir) -> str | None:
    """The backend the run in `run_dir` recorded (`RunFolder`), or None."""
    from zoo.run_folder import RunFolder

    backend = RunFolder(run_dir).recorded_backend()
    return backend if backend in BACKENDS else None


def choose(args, model_arg: str | None) -> str:
    """The backend name for parsed `args` (see the module docstring)."""
    if getattr(args, "backend", None):
        return args.backend
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    run_dir = None
    if model_arg and getattr(args, model_arg, None):
        run_dir = Path(getattr(args, model_arg)).parent
    elif getattr(args, "resume", False) and getattr(args, "out", None):
        run_dir = Path(args.out)
    return (recorded_backend(run_dir) if run_dir else None) or DEFAULT_BACKEND


def pick_backend(args, model_arg: str | None = None) -> str:
    """Choose the backend for `args` and set KERAS_BACKEND (and `args.backend`) without
    importing anything; UsageError for an unknown name."""
    name = choose(args, model_arg)
    if name not in BACKENDS:
        raise UsageError(f"unknown backend {name!r}; valid: {', '.join(BACKENDS)}")
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = name
    args.backend = name
    return name


def use_backend(args, model_arg: str | None = None) -> str:
    """`pick_backend`, then quiet TensorFlow's start-up logs and load keras; UsageError for an
    unknown name or a process whose keras already runs another backend."""
    name = pick_backend(args, model_arg)
    from data_tools.startup import quiet_native_logs

    quiet_native_logs()
    import keras

    if keras.backend.backend() != name:
        raise UsageError(f"keras already runs on {keras.backend.backend()!r} in this Python process; "
                         f"pass --backend {keras.backend.backend()} or start a new process with "
                         f"KERAS_BACKEND={name}")
    return name
