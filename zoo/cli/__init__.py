"""`python -m zoo COMMAND ...`: the zoo's command line, one small module per command.

Each command module in this package has a docstring whose first line is its
help, `add_arguments(parser)` and `run(args) -> exit code`, and imports nothing
heavy at module level, so `--help` and argument mistakes answer without loading
a backend. `NEEDS_BACKEND = True` gives the command a `--backend` flag; the
backend is then chosen (`zoo.cli.backend`) before anything imports keras.

User mistakes (unknown model/backend/recipe, missing data, bad sizes, unsafe
files) print one `error: ...` line and exit 2; a diverged run exits 3.
"""

import importlib
import sys

from data_tools.usage import USAGE_ERROR, Parser, UsageError
from zoo.cli.backend import use_backend as _use_backend_of


def _use_backend(name: str) -> None:
    """TEMPORARY (restructure in progress): for library modules that still parse their own
    arguments; selects backend `name` like `zoo.cli.backend.use_backend`."""
    import argparse

    _use_backend_of(argparse.Namespace(backend=name))

# Command -> module in zoo.cli, in the order `--help` lists them.
COMMANDS = {
    "train": "train",
    "evaluate": "evaluate",
    "predict": "predict",
    "list": "list_models",
    "compare": "compare",
    "bench": "bench",
    "transfer-check": "transfer_check",
    "convert-weights": "convert_weights",
    "explain": "explain",
    "export": "export",
    "serve": "serve",
    "embed": "embed",
    "similar": "similar",
}


def command_module(name: str):
    """The module of command `name` (cheap: command modules import no backend)."""
    return importlib.import_module(f"zoo.cli.{COMMANDS[name]}")


def build_parser() -> Parser:
    """The whole argparse tree: one subparser per command, from its module."""
    from zoo.cli.backend import add_backend_flag

    parser = Parser(prog="python -m zoo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        module = command_module(name)
        doc = (module.__doc__ or name).strip()
        p = sub.add_parser(name, help=doc.splitlines()[0], description=doc,
                           add_help=getattr(module, "ADD_HELP", True))
        module.add_arguments(p)
        if getattr(module, "NEEDS_BACKEND", False):
            add_backend_flag(p)
    return parser


def main(argv=None) -> int:
    """Parse `argv`, select the backend, run the command; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser = build_parser()
        if not argv:
            parser.print_help()
            return 0
        if argv[0] in COMMANDS and hasattr(command_module(argv[0]), "run_argv"):
            return int(command_module(argv[0]).run_argv(argv[1:]) or 0)
        args = parser.parse_args(argv)
        module = command_module(args.command)
        if getattr(module, "NEEDS_BACKEND", False):
            from zoo.cli.backend import use_backend

            use_backend(args, getattr(module, "MODEL_ARG", None))
        return int(module.run(args) or 0)
    except (UsageError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}".splitlines()[0], file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted; resume with --resume --out RUN", file=sys.stderr)
        return 130
