"""Command-line mistakes, shared by `python -m zoo` and `python -m data_tools`.

A user mistake is a `UsageError` (or ValueError from a library check); the
command's `main` prints it as one `error: ...` line on stderr and exits with
`USAGE_ERROR`. argparse's own errors go the same way through `Parser`.
"""

import argparse

USAGE_ERROR = 2


class UsageError(Exception):
    """A user mistake: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose mistakes raise `UsageError` instead of printing usage and exiting."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def int_at_least(minimum: int):
    """argparse type: an integer >= `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            rule = "must not be negative" if minimum == 0 else f"must be at least {minimum}"
            raise argparse.ArgumentTypeError(f"{text!r} {rule}")
        return value

    return parse
