"""Pieces shared by the studies (`compare`, `bench`, `transfer-check`): settings kept in the
output folder, and the console they print to."""

import json
import sys
from pathlib import Path

from rich.console import Console

from data_tools.files import write_atomic
from data_tools.usage import UsageError


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
    write_atomic(path, json.dumps(settings, indent=1))


def study_console() -> Console:
    """A rich console; wide tables when the output goes to a log file."""
    return Console(width=None if sys.stdout.isatty() else 160)
