"""Command line: python -m data_tools {synth,ingest,stats,bench} ...

Every user mistake ends with one ``error: ...`` line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from data_tools.manifest import DataError

MAX_PIXELS = 89_478_485  # = data_tools.images.MAX_PIXELS (Pillow's limit); no PIL import here

USAGE_ERROR = 2


class UsageError(Exception):
    """A command-line mistake reported by argparse."""


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are raised (and printed as one line by `main`)."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}")


def _int_at_least(minimum: int):
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


_positive = _int_at_least(1)
_count = _int_at_least(0)


def build_parser() -> Parser:
    """The argparse tree for every subcommand."""
    from data_tools.split import DEFAULT_SPLIT

    parser = Parser(
        prog="python -m data_tools",
        description="Dataset tools: the synthetic set, Art500k/WikiArt/folder ingest, stats.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    synth = sub.add_parser("synth", help="write the embedded synthetic dataset")
    synth.add_argument("--out", required=True, type=Path, help="output folder")
    synth.add_argument(
        "--artists", type=_positive, default=10, help="number of artists (%(default)s)"
    )
    synth.add_argument(
        "--per-artist", type=_positive, default=60, help="images per artist (%(default)s)"
    )
    synth.add_argument(
        "--image-size", type=_positive, default=128, help="side in pixels (%(default)s)"
    )
    synth.add_argument("--seed", type=int, default=0, help="same seed, same bytes (%(default)s)")
    synth.add_argument(
        "--split", default=DEFAULT_SPLIT, help="train,val,test fractions (%(default)s)"
    )
    synth.add_argument("--overwrite", action="store_true", help="replace an existing dataset")

    ingest = sub.add_parser("ingest", help="convert a downloaded dataset")
    ingest.add_argument("kind", choices=("art500k", "wikiart", "folder"), help="source kind")
    ingest.add_argument("sources", nargs="+", type=Path, metavar="SRC", help="folder or .zip")
    ingest.add_argument("--out", required=True, type=Path, help="output folder")
    ingest.add_argument(
        "--top-artists",
        type=_count,
        default=None,
        help="keep the N artists with most images, 0: all (default: 50 for art500k and "
        "wikiart, all for folder); a notice says how many were dropped",
    )
    ingest.add_argument(
        "--min-per-artist",
        type=_positive,
        default=3,
        help="drop artists with fewer images (%(default)s)",
    )
    ingest.add_argument(
        "--max-side", type=_positive, default=512, help="shrink larger images (%(default)s)"
    )
    ingest.add_argument(
        "--max-pixels",
        type=_positive,
        default=MAX_PIXELS,
        help="refuse larger images (%(default)s)",
    )
    ingest.add_argument(
        "--split", default=DEFAULT_SPLIT, help="train,val,test fractions (%(default)s)"
    )
    ingest.add_argument("--seed", type=int, default=0, help="split seed (%(default)s)")
    ingest.add_argument("--overwrite", action="store_true", help="replace an existing dataset")

    stats = sub.add_parser("stats", help="summarise a dataset folder")
    stats.add_argument("dir", type=Path)

    sub.add_parser("bench", help="input-pipeline benchmark (data_tools.bench)", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "bench":
            return _bench(argv[1:])
        args = build_parser().parse_args(argv)
        return _COMMANDS[args.command](args)
    except (UsageError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as exc:  # e.g. an unwritable --out
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def _bench(argv: list[str]) -> int:
    """Hand over to data_tools.bench.main (imported only now: it needs TensorFlow)."""
    from data_tools.startup import quiet_native_logs

    quiet_native_logs()
    bench = importlib.import_module("data_tools.bench")
    return int(bench.main(argv) or 0)


def _console():
    """A stdout console; wide when not a terminal so names are never cut."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def _synth(args) -> int:
    from data_tools import build, split, synth

    fractions = split.parse_split(args.split)
    console = _console()
    result = synth.synthesize(
        args.out,
        overwrite=args.overwrite,
        console=console,
        artists=args.artists,
        per_artist=args.per_artist,
        image_size=args.image_size,
        seed=args.seed,
        split=fractions,
    )
    console.print(build.summary_table(result, f"synth -> {args.out}"))
    console.print(f"{result.kept} images in {result.seconds:.1f} s")
    return 0


def _ingest(args) -> int:
    from data_tools import build, split
    from data_tools.ingest import ingest

    top = args.top_artists
    opts = build.BuildOptions(
        top_artists=(0 if args.kind == "folder" else 50) if top is None else top,
        min_per_artist=args.min_per_artist,
        max_side=args.max_side,
        max_pixels=args.max_pixels,
        split=split.parse_split(args.split),
        seed=args.seed,
    )
    console = _console()
    result = ingest(args.kind, args.sources, args.out, opts, args.overwrite, console)
    console.print(build.summary_table(result, f"{args.kind} -> {args.out}"))
    console.print(
        f"{result.kept} images kept in {result.seconds:.1f} s; see {args.out}/rejected.csv"
    )
    return 0


def _stats(args) -> int:
    from data_tools.stats import print_stats

    print_stats(args.dir, _console())
    return 0


_COMMANDS = {"synth": _synth, "ingest": _ingest, "stats": _stats}

if __name__ == "__main__":
    sys.exit(main())
