"""Command-line pieces shared by `python -m zoo compare` and `python -m zoo bench`."""

import sys

from rich.console import Console

from zoo.backend_select import BACKENDS
from zoo.cli import UsageError


def comma_list(text: str) -> list[str]:
    """argparse type: "a, b,c" -> ["a", "b", "c"]."""
    return [n.strip() for n in text.split(",") if n.strip()]


def check_backends(backends: list[str]) -> None:
    """UsageError unless `backends` is a non-empty list of known backends."""
    bad = [b for b in backends if b not in BACKENDS]
    if bad or not backends:
        raise UsageError(f"--backends: unknown {', '.join(bad) or '(empty)'}; valid: {', '.join(BACKENDS)}")


def study_console() -> Console:
    """A rich console; wide tables when the output goes to a log file."""
    return Console(width=None if sys.stdout.isatty() else 160)
