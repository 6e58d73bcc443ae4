"""Command-line pieces shared by `python -m zoo compare`, `bench` and `transfer-check`."""

import json
import sys
from pathlib import Path

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


def keep_settings(out: Path, settings: dict, *, name: str) -> None:
    """Record `settings` in OUT/`name`; UsageError if OUT holds a study made with other
    settings (its finished parts would be reused as if they were this one's)."""
    path = out / name
    if path.exists():
        old = json.loads(path.read_text())
        diff = [k for k in settings if old.get(k) != settings[k]]
        if diff:
            raise UsageError(f"{out} holds a run with other settings ({', '.join(diff)}); "
                             "pass another --out or delete it")
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=1))


def study_console() -> Console:
    """A rich console; wide tables when the output goes to a log file."""
    return Console(width=None if sys.stdout.isatty() else 160)
