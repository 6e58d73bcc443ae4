"""`python -m zoo COMMAND ...`: the zoo's command line, one small module per command.

Each command module in this package has a docstring whose first line is its
help, `add_arguments(parser)` and `run(args) -> exit code`, and imports nothing
heavy at module level, so `--help` and argument mistakes answer without loading
a backend. An optional `check(args)` checks arguments, paths and folders before
any backend loads (raising UsageError; or returning an exit code when nothing is
left to do). `NEEDS_BACKEND = True` gives the command a `--backend` flag; the
backend is then chosen (`zoo.cli.backend`) before anything imports keras.

User mistakes (unknown model/backend/recipe, missing data, bad sizes, unsafe
files) print one `error: ...` line and exit 2; a diverged run exits 3. A
multi-file command (predict, explain, similar) keeps going past a file it cannot
read, reports it as `error: FILE: why` on stderr (`file_failed`), and exits 1.
"""

import importlib
import json
import os
import sys
import zipfile
from pathlib import Path

from data_tools.usage import USAGE_ERROR, Parser, UsageError
from zoo.cli.backend import DEFAULT_BACKEND, add_backend_flag, pick_backend, use_backend

__all__ = ["COMMANDS", "NO_FILE", "Parser", "UsageError", "build_parser", "file_failed", "main",
           "missing_files", "need_data", "need_model"]

# Command -> module in zoo.cli, in the order `--help` lists them.
COMMANDS = {
    "train": "train",
    "evaluate": "evaluate",
    "calibrate": "calibrate",
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


def need_model(path) -> None:
    """UsageError unless `path` (a .keras file, an exported artifact or a SavedModel folder)
    exists, and, for a `.keras` file, unless its config carries code that safe loading refuses
    (read from the zip without keras, so the refusal comes before any backend loads)."""
    if not Path(path).exists():
        raise UsageError(f"model file not found: {path}")
    if Path(path).suffix == ".keras" and _carries_code(path):
        raise UsageError(f"{path}: the file carries code (a Lambda layer's Python function); "
                         "the zoo loads models in Keras' safe mode, which refuses it")


def _carries_code(path) -> bool:
    """Whether the `.keras` zip's config.json holds a Lambda layer or a serialized Python
    lambda (what `keras.saving.load_model(safe_mode=True)` refuses). False for a file that is
    not a readable .keras zip: loading it reports that itself."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return False
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("class_name") in ("Lambda", "__lambda__"):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def need_data(data) -> None:
    """UsageError unless the dataset folder `data` has a manifest.csv."""
    if not (Path(data) / "manifest.csv").is_file():
        raise UsageError(f"--data {data}: no manifest.csv (not a dataset folder, or an unfinished one)")


NO_FILE = "no such file"


def file_failed(path, why) -> None:
    """Report one file a multi-file command could not use: `error: FILE: why` on stderr."""
    print(f"error: {path}: {why}", file=sys.stderr, flush=True)


def missing_files(paths) -> set[str]:
    """The `paths` that are not files (reported as NO_FILE, checked before any model loads)."""
    return {str(p) for p in paths if not Path(p).is_file()}


def build_parser() -> Parser:
    """The whole argparse tree: one subparser per command, from its module."""
    parser = Parser(prog="python -m zoo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        module = command_module(name)
        doc = (module.__doc__ or name).strip()
        # argparse %-formats help strings: a docstring's "95 % interval" must stay literal
        p = sub.add_parser(name, help=doc.splitlines()[0].replace("%", "%%"), description=doc)
        module.add_arguments(p)
        if getattr(module, "NEEDS_BACKEND", False):
            add_backend_flag(p)
    return parser


def run(argv: list[str]) -> int:
    """Parse `argv`, select the backend, run the command; exceptions propagate."""
    parser = build_parser()
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    module = command_module(args.command)
    needs_backend = getattr(module, "NEEDS_BACKEND", False)
    if needs_backend:  # chosen (an environment variable, no import) before a check may load keras
        pick_backend(args, getattr(module, "MODEL_ARG", None))
    done = module.check(args) if hasattr(module, "check") else None
    if done is not None:  # e.g. every image of a multi-file command is missing: no model loads
        return int(done)
    if needs_backend:
        use_backend(args, getattr(module, "MODEL_ARG", None))
    else:  # a later keras import in this process (a study's parent) follows the zoo's default
        os.environ.setdefault("KERAS_BACKEND", DEFAULT_BACKEND)
    return int(module.run(args) or 0)


def main(argv=None) -> int:
    """`run(argv)` with user mistakes as one `error: ...` line (exit 2); returns the exit code."""
    try:
        return run(sys.argv[1:] if argv is None else list(argv))
    except (UsageError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}".splitlines()[0], file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted; resume with --resume --out RUN", file=sys.stderr)
        return 130
