"""Start-up before keras loads: pick the backend and keep native start-up logs quiet.

Keras fixes its backend at first import, and `python -m zoo` imports this
package (and so keras) before `zoo/__main__.py` runs. While the package is
imported that way, `sys.argv[0]` is "-m", so `zoo/__init__.py` calls
`from_command_line()` first. Plain `import zoo` is unaffected: set
KERAS_BACKEND yourself.

The backend for `python -m zoo CMD` is, in this order: `--backend NAME`; the
KERAS_BACKEND variable; for commands that take a saved model and for
`train --resume --out RUN`, the backend the run recorded (its `config.json`);
else DEFAULT_BACKEND.
"""

import json
import os
import sys
from pathlib import Path

from data_tools.startup import quiet_native_logs  # noqa: F401  (re-exported for zoo/__init__)

BACKENDS = ("jax", "tensorflow", "torch")
DEFAULT_BACKEND = "jax"
# Subcommands whose first `*.keras` argument names a saved model.
MODEL_COMMANDS = ("evaluate", "predict", "explain", "serve", "export", "embed")


def from_command_line(argv=None) -> None:
    """Set KERAS_BACKEND for `python -m zoo ...` (see the module docstring)."""
    argv = sys.argv if argv is None else argv
    if not argv or argv[0] != "-m" or "keras" in sys.modules:
        return
    chosen = _option_value(argv, "--backend")
    if chosen is None and "KERAS_BACKEND" not in os.environ:
        chosen = recorded_backend(argv) or DEFAULT_BACKEND
    if chosen in BACKENDS:
        os.environ["KERAS_BACKEND"] = chosen
    quiet_native_logs()  # after KERAS_BACKEND: importing TensorFlow may load keras


def recorded_backend(argv) -> str | None:
    """The backend a run recorded in its config.json: the run folder of the first `*.keras`
    argument of a model command, or the `--out RUN` of `train --resume`."""
    command = next((a for a in argv[1:] if not a.startswith("-")), None)
    config = None
    if command in MODEL_COMMANDS:
        model = next((a for a in argv[1:] if a.endswith(".keras")), None)
        config = Path(model).parent / "config.json" if model else None
    elif command == "train" and "--resume" in argv:
        out = _option_value(argv, "--out")
        config = Path(out) / "config.json" if out else None
    try:
        backend = json.loads(config.read_text()).get("backend")
    except (AttributeError, OSError, ValueError):
        return None
    return backend if backend in BACKENDS else None


def _option_value(argv, name: str) -> str | None:
    """The value of `--name VALUE` or `--name=VALUE` in argv, if given."""
    for i, arg in enumerate(argv):
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
    return None
