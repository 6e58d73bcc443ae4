"""`python -m zoo` mistakes in this process: what they print and whether a backend loaded
(tests/test_cli.py: errors are answered before any backend or model loads, issue 23)."""

import contextlib
import io
import sys

HEAVY = ("keras", "tensorflow", "jax", "torch")


def zoo_mistake(argv: list[str]) -> dict:
    """`zoo.cli.main(argv)`: its exit code, stdout, stderr and which of HEAVY it imported."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        from zoo.cli import main

        code = main(argv)
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
            "heavy": [m for m in HEAVY if m in sys.modules]}
