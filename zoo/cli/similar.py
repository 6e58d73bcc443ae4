"""Closest works to an image by cosine similarity of pooled features (needs `embed`)."""

import json
from pathlib import Path

from zoo.cli import NO_FILE, file_failed

NEEDS_BACKEND = True


def add_arguments(p) -> None:
    p.add_argument("embeddings", help="FILE.npz from `python -m zoo embed`")
    p.add_argument("image")
    p.add_argument("-k", type=int, default=10, help="how many works to list")
    p.add_argument("--json", action="store_true", help="one JSON line per work instead of a table")


def check(args):
    """-k, the embeddings file and its model before the backend loads (`args.index`); a
    missing query image is a per-file problem (`zoo.cli.file_failed`, exit 1)."""
    if args.k < 1:
        raise ValueError(f"-k must be >= 1, got {args.k}")
    from zoo.similar import Index

    if not Path(args.embeddings).is_file():
        raise ValueError(f"{args.embeddings}: no such file; make it with `zoo embed`")
    args.index = Index(args.embeddings)
    if not Path(args.index.model).is_file():
        raise ValueError(f"{args.embeddings}: its model {args.index.model} is gone; run `zoo embed` again")
    if not Path(args.image).is_file():
        file_failed(args.image, NO_FILE)
        return 1
    return None


def run(args) -> int:
    from data_tools.decode import BadImage, load_image
    from zoo.inference.predictor import open_predictor

    index = args.index
    try:
        pixels = load_image(args.image, index.input_size)
    except BadImage as exc:
        file_failed(args.image, exc)
        return 1
    results = index.closest(open_predictor(index.model).embed(pixels[None])[0], args.k)
    if args.json:
        for r in results:
            print(json.dumps(r, ensure_ascii=False))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"works closest to {args.image}")
    for column in ("#", "similarity", "image_id", "artist", "path"):
        table.add_column(column)
    for rank, r in enumerate(results, 1):
        table.add_row(str(rank), f"{r['similarity']:.3f}", r["image_id"], r["artist"], r["path"])
    Console(width=120).print(table)
    return 0
