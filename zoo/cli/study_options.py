"""Argument types shared by the study commands (`compare`, `bench`, `transfer-check`)."""

import argparse

from data_tools.usage import UsageError
from zoo.cli.backend import BACKENDS


def comma_list(text: str) -> list[str]:
    """argparse type: "a, b,c" -> ["a", "b", "c"]."""
    return [n.strip() for n in text.split(",") if n.strip()]


def int_list(text: str) -> list[int]:
    """argparse type: "128,224" -> [128, 224]."""
    try:
        return [int(v) for v in comma_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def add_backends(parser, help_text: str | None = None) -> None:
    """`--backends a,b` (default: every backend)."""
    parser.add_argument("--backends", type=comma_list, default=list(BACKENDS),
                        help=help_text or f"comma-separated backends (default {','.join(BACKENDS)})")


def check_backends(backends: list[str]) -> None:
    """UsageError unless `backends` is a non-empty list of known backends."""
    bad = [b for b in backends if b not in BACKENDS]
    if bad or not backends:
        raise UsageError(f"--backends: unknown {', '.join(bad) or '(empty)'}; valid: {', '.join(BACKENDS)}")


def check_at_least(args, minimum: int, *flags: str) -> None:
    """UsageError naming the first of `flags` (attribute names) whose value is below `minimum`
    (None: not given, skipped; a list: each element)."""
    for flag in flags:
        value = getattr(args, flag)
        values = value if isinstance(value, list) else [] if value is None else [value]
        if (isinstance(value, list) and not value) or any(v < minimum for v in values):
            raise UsageError(f"--{flag.replace('_', '-')} must be >= {minimum}, got {value}")
