"""convert a downloaded dataset (Art500k, WikiArt, a folder, or a Hugging Face dataset)"""

from pathlib import Path

from data_tools.usage import UsageError, int_at_least

MAX_PIXELS = 89_478_485  # = data_tools.images.MAX_PIXELS (Pillow's limit); no PIL import here
KINDS = ("art500k", "wikiart", "folder", "hf")  # = data_tools.ingest.KINDS
HF_ONLY = ("columns", "unknown_as_class", "limit", "hf_split")
PROTOCOLS = ("artgan-artist", "artgan-genre", "artgan-style")  # = data_tools.ingest.wikiart.PROTOCOLS


def add_arguments(p) -> None:
    positive = int_at_least(1)
    p.add_argument("kind", choices=KINDS, help="source kind")
    p.add_argument("sources", nargs="+", type=Path, metavar="SRC",
                   help="folder or .zip; for hf: a hub name, a parquet folder or a save_to_disk folder")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--top-artists", type=int_at_least(0), default=None,
                   help="keep the N artists with most images, 0: all (default: 50 for art500k, "
                   "wikiart and hf, all for folder); a notice says how many were dropped")
    p.add_argument("--min-per-artist", type=positive, default=3, help="drop artists with fewer images (%(default)s)")
    p.add_argument("--max-side", type=positive, default=512, help="shrink larger images (%(default)s)")
    p.add_argument("--max-pixels", type=positive, default=MAX_PIXELS, help="refuse larger images (%(default)s)")
    p.add_argument("--split", default="auto",
                   help="auto (default): the source's published split where it has one (wikiart: "
                   "the --protocol task's ArtGAN lists), else the stable 0.8,0.1,0.1; published; stable; or "
                   "train,val,test fractions of the stable split")
    p.add_argument("--protocol", choices=PROTOCOLS, default=None,
                   help="wikiart: whose ArtGAN lists define the rows and train/test (default "
                   "artgan-artist); the other tasks' lists only label them, a row without an artist "
                   "keeps an empty (masked) artist")
    p.add_argument("--seed", type=int, default=0, help="split seed (%(default)s)")
    p.add_argument("--workers", type=positive, default=None,
                   help="processes that decode and re-encode images (default: the CPU cores, at most 8)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing dataset")
    hf = p.add_argument_group("hf (Hugging Face datasets)")
    hf.add_argument("--columns", help="task=column pairs, e.g. artist=artist,movement=style,genre=genre,"
                    "year=completitionYear (default: artist, genre, style, movement, year, medium "
                    "where the dataset has them)")
    hf.add_argument("--unknown-as-class", action="store_true",
                    help="keep 'Unknown Artist'/'Unknown Genre'... as a class (default: a missing label)")
    hf.add_argument("--limit", type=positive, help="read at most N rows")
    hf.add_argument("--hf-split", default="train", help="the dataset's split to read (%(default)s)")


def run(args) -> int:
    from data_tools import build, clean
    from data_tools.cli import console as make_console
    from data_tools.ingest import ingest
    from data_tools.plural import plural

    mode, fractions = split_mode(args.split)
    options = source_options(args)
    top = args.top_artists
    opts = build.BuildOptions(
        top_artists=(0 if args.kind == "folder" else 50) if top is None else top,
        min_per_artist=args.min_per_artist,
        max_side=args.max_side,
        max_pixels=args.max_pixels,
        split=fractions,
        seed=args.seed,
        workers=args.workers or clean.default_workers(),
    )
    console = make_console()
    sources = [str(s) for s in args.sources] if args.kind == "hf" else args.sources
    result = ingest(args.kind, sources, args.out, opts, args.overwrite, console, split=mode, options=options)
    console.print(build.summary_table(result, f"{args.kind} -> {args.out}"))
    rate = result.kept / max(result.seconds, 1e-9)
    console.print(f"{result.kept} images kept in {result.seconds:.1f} s ({rate:.1f} img/s, "
                  f"{plural(opts.workers, 'worker')}); see {args.out}/rejected.csv")
    return 0


def split_mode(spec: str) -> tuple[str, tuple[float, float, float]]:
    """--split -> (ingest split mode, stable fractions)."""
    from data_tools.split import DEFAULT_SPLIT, parse_split

    if spec in ("auto", "published", "stable"):
        return spec, parse_split(DEFAULT_SPLIT)
    return "stable", parse_split(spec)


def source_options(args) -> dict:
    """The source's `collect` keywords (hf: columns, ...; wikiart: protocol); UsageError when
    another kind is given them."""
    if args.protocol and args.kind != "wikiart":
        raise UsageError("--protocol is for 'ingest wikiart' only")
    if args.kind == "wikiart":
        return {"protocol": args.protocol} if args.protocol else {}
    given = [n for n in HF_ONLY if getattr(args, n) not in (None, False, "train")]
    if args.kind != "hf":
        if given:
            raise UsageError(f"--{given[0].replace('_', '-')} is for 'ingest hf' only")
        return {}
    from data_tools.ingest.hf import parse_columns

    return {"columns": parse_columns(args.columns), "unknown_as_class": args.unknown_as_class,
            "limit": args.limit, "split": args.hf_split}
