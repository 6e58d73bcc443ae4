"""`python -m data_tools COMMAND ...`: the dataset tools' command line, one module per command.

Each command module has a docstring whose first line is its help,
`add_arguments(parser)` and `run(args) -> exit code`, and imports nothing heavy
at module level. Every user mistake ends with one `error: ...` line on stderr
and exit code 2 (`data_tools.usage`); an unwritable output is exit 1.
"""

import importlib
import sys

from data_tools.usage import USAGE_ERROR, Parser, UsageError

# Command -> module in data_tools.cli, in the order `--help` lists them.
COMMANDS = ("synth", "ingest", "stats", "bench")


def build_parser() -> Parser:
    """The argparse tree: one subparser per command, from its module."""
    parser = Parser(prog="python -m data_tools",
                    description="Dataset tools: the synthetic set, Art500k/WikiArt/folder/Hugging Face ingest, stats.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        module = importlib.import_module(f"data_tools.cli.{name}")
        doc = module.__doc__.strip()
        module.add_arguments(sub.add_parser(name, help=doc.splitlines()[0], description=doc))
    return parser


def console():
    """A stdout console; wide when not a terminal so names are never cut."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        return int(importlib.import_module(f"data_tools.cli.{args.command}").run(args) or 0)
    except (UsageError, ValueError) as exc:  # data_tools.manifest.DataError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as exc:  # e.g. an unwritable --out
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
