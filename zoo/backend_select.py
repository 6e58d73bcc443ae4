"""Choose the Keras backend from `python -m zoo ... --backend NAME` before keras loads.

Keras fixes its backend at first import, and `python -m zoo` imports this
package (and so keras) before `zoo/__main__.py` runs. While the package is
imported that way, `sys.argv[0]` is "-m", so `zoo/__init__.py` calls
`from_command_line()` first. Plain `import zoo` is unaffected: set
KERAS_BACKEND yourself.
"""

import os
import sys

BACKENDS = ("jax", "tensorflow", "torch")


def from_command_line(argv=None) -> None:
    argv = sys.argv if argv is None else argv
    if not argv or argv[0] != "-m" or "keras" in sys.modules:
        return
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--backend=") else None
        if arg == "--backend" and i + 1 < len(argv):
            value = argv[i + 1]
        if value in BACKENDS:
            os.environ["KERAS_BACKEND"] = value
