"""Start-up before keras loads: pick the backend and keep native start-up logs quiet.

Keras fixes its backend at first import, and `python -m zoo` imports this
package (and so keras) before `zoo/__main__.py` runs. While the package is
imported that way, `sys.argv[0]` is "-m", so `zoo/__init__.py` calls
`from_command_line()` first. Plain `import zoo` is unaffected: set
KERAS_BACKEND yourself.

The backend for `python -m zoo CMD` is, in this order: `--backend NAME`; the
KERAS_BACKEND variable; for commands that take a saved model, the backend the
model was trained on (the `config.json` of its run folder); else DEFAULT_BACKEND.
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
    chosen = None
    for i, arg in enumerate(argv):
        if arg.startswith("--backend="):
            chosen = arg.split("=", 1)[1]
        elif arg == "--backend" and i + 1 < len(argv):
            chosen = argv[i + 1]
    if chosen is None and "KERAS_BACKEND" not in os.environ:
        chosen = recorded_backend(argv) or DEFAULT_BACKEND
    if chosen in BACKENDS:
        os.environ["KERAS_BACKEND"] = chosen
    quiet_native_logs()  # after KERAS_BACKEND: importing TensorFlow may load keras


def recorded_backend(argv) -> str | None:
    """The backend in the run folder's config.json of the first `*.keras` argument, if any."""
    command = next((a for a in argv[1:] if not a.startswith("-")), None)
    if command not in MODEL_COMMANDS:
        return None
    model = next((a for a in argv[1:] if a.endswith(".keras")), None)
    config = Path(model).parent / "config.json" if model else None
    try:
        backend = json.loads(config.read_text()).get("backend")
    except (AttributeError, OSError, ValueError):
        return None
    return backend if backend in BACKENDS else None
