"""convert a downloaded dataset"""

from pathlib import Path

from data_tools.usage import int_at_least

MAX_PIXELS = 89_478_485  # = data_tools.images.MAX_PIXELS (Pillow's limit); no PIL import here


def add_arguments(p) -> None:
    from data_tools.split import DEFAULT_SPLIT

    positive = int_at_least(1)
    p.add_argument("kind", choices=("art500k", "wikiart", "folder"), help="source kind")
    p.add_argument("sources", nargs="+", type=Path, metavar="SRC", help="folder or .zip")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--top-artists", type=int_at_least(0), default=None,
                   help="keep the N artists with most images, 0: all (default: 50 for art500k and "
                   "wikiart, all for folder); a notice says how many were dropped")
    p.add_argument("--min-per-artist", type=positive, default=3, help="drop artists with fewer images (%(default)s)")
    p.add_argument("--max-side", type=positive, default=512, help="shrink larger images (%(default)s)")
    p.add_argument("--max-pixels", type=positive, default=MAX_PIXELS, help="refuse larger images (%(default)s)")
    p.add_argument("--split", default=DEFAULT_SPLIT, help="train,val,test fractions (%(default)s)")
    p.add_argument("--seed", type=int, default=0, help="split seed (%(default)s)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing dataset")


def run(args) -> int:
    from data_tools import build, split
    from data_tools.cli import console as make_console
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
    console = make_console()
    result = ingest(args.kind, args.sources, args.out, opts, args.overwrite, console)
    console.print(build.summary_table(result, f"{args.kind} -> {args.out}"))
    console.print(f"{result.kept} images kept in {result.seconds:.1f} s; see {args.out}/rejected.csv")
    return 0
