"""Start-up checks: what `python -m zoo ...` imports (tests/test_cli.py, tests/test_startup.py)."""

import contextlib
import io
import sys
import time

HEAVY = ("keras", "tensorflow", "jax", "torch")


def zoo_command(argv: list[str]) -> dict:
    """Run `python -m zoo ARGV` in this process; its exit code, seconds, stdout and which of
    HEAVY it imported."""
    started = time.perf_counter()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        from zoo.cli import main

        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's --help
            code = exc.code
    return {"code": code, "seconds": time.perf_counter() - started, "stdout": out.getvalue(),
            "heavy": [m for m in HEAVY if m in sys.modules]}


def notebook_import() -> dict:
    """The Colab notebook's imports in a kernel (not `python -m`); the backend keras runs on."""
    import os

    os.environ["KERAS_BACKEND"] = "torch"
    from data_tools.startup import quiet_native_logs

    quiet_native_logs()
    import keras

    import recipes  # noqa: F401
    import zoo  # noqa: F401
    from data_tools.synth import synthesize  # noqa: F401
    from zoo.training.loop import train  # noqa: F401

    return {"backend": keras.backend.backend()}
