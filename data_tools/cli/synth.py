"""write the embedded synthetic dataset"""

import argparse
from pathlib import Path

from data_tools.usage import int_at_least


def add_arguments(p) -> None:
    from data_tools.split import DEFAULT_SPLIT

    positive = int_at_least(1)
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--artists", type=positive, default=10, help="number of artists (%(default)s)")
    p.add_argument("--per-artist", type=positive, default=60, help="images per artist (%(default)s)")
    p.add_argument("--image-size", type=positive, default=128, help="side in pixels (%(default)s)")
    p.add_argument("--seed", type=int, default=0, help="same seed, same bytes (%(default)s)")
    p.add_argument("--split", default=DEFAULT_SPLIT, help="train,val,test fractions (%(default)s)")
    p.add_argument("--genre", action=argparse.BooleanOptionalAction, default=True,
                   help="a genre column: the subject each composition draws (landscape, portrait, "
                   "still life); on by default, --no-genre leaves it out")
    p.add_argument("--difficulty", choices=("default", "hard"), default="default",
                   help="default: one hue per artist (make train's demo); hard: the artist is in the "
                   "brushwork, every painting has its own palette (data_tools/synth_hard.py, make compare)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing dataset")


def run(args) -> int:
    from data_tools import build, split, synth, synth_hard
    from data_tools.cli import console as make_console

    console = make_console()
    write = synth_hard.write_hard if args.difficulty == "hard" else synth.write_synthetic
    result = synth.synthesize(args.out, overwrite=args.overwrite, console=console, write=write, artists=args.artists,
                              per_artist=args.per_artist, image_size=args.image_size, seed=args.seed,
                              split=split.parse_split(args.split), genre=args.genre)
    console.print(build.summary_table(result, f"synth -> {args.out}"))
    console.print(f"{result.kept} images in {result.seconds:.1f} s")
    return 0
