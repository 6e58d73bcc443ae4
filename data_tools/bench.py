"""Input-pipeline throughput benchmark: `python -m data_tools bench DIR` (img/s per stage).

Runs on the current Keras backend (KERAS_BACKEND); tf.data does the work either way,
but keras preprocessing layers inside it can be slower under some backends.
"""

import argparse
import math
import os
import sys
import time

import keras
import tensorflow as tf
from rich.console import Console
from rich.table import Table

from data_tools.augment import random_flip
from data_tools.labels import LabelSpace
from data_tools.pipeline import load_rows, make_dataset


def flip_only(seed: int = 0):
    """Augmenter that only flips (the cheapest useful augmentation), for comparison."""
    flip = random_flip(tf.random.Generator.from_seed(seed))
    return lambda images, targets, weights: (flip(images), targets, weights)


# name -> (make_dataset keyword arguments, warm up a whole epoch first so the cache is full)
CASES = {
    "decode+resize (no cache)": ({"cache": False}, False),
    "decode+resize+flip (no cache)": ({"cache": False, "augment": "flip"}, False),
    "cached+flip (2nd epoch)": ({"cache": "memory", "augment": "flip"}, True),
    "basic (cached)": ({"cache": "memory", "augment": "basic"}, True),
    "randaugment (cached)": ({"cache": "memory", "augment": "randaugment"}, True),
    "randaugment+mixup (cached)": (
        {"cache": "memory", "augment": "randaugment", "mix": "mixup"},
        True,
    ),
}


def measure(
    data_dir, split, labels, n_rows, batch_size, image_size, batches, kwargs, full_epoch
) -> float:
    """Images per second over `batches` batches after a warm-up (a full epoch if cached)."""
    kwargs = dict(kwargs)
    if kwargs.get("augment") == "flip":
        kwargs["augment"] = flip_only()
    ds = make_dataset(
        data_dir,
        split,
        labels,
        image_size=image_size,
        batch_size=batch_size,
        shuffle=True,
        repeat=True,
        drop_remainder=True,
        **kwargs,
    )
    it = iter(ds)
    for _ in range(math.ceil(n_rows / batch_size) if full_epoch else 3):
        next(it)
    start = time.perf_counter()
    for _ in range(batches):
        next(it)
    return batches * batch_size / (time.perf_counter() - start)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose mistakes become one ValueError line (printed by `main`)."""

    def error(self, message: str):
        raise ValueError(f"{self.prog}: {message}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Options of `python -m data_tools bench`."""
    parser = _Parser(prog="python -m data_tools bench", description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", metavar="DIR", help="dataset folder with manifest.csv")
    parser.add_argument("--split", default="train", help="manifest split to read (default train)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=128, help="square side in pixels")
    parser.add_argument("--batches", type=int, default=30, help="timed batches per case")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Print a rich table of pipeline img/s for DIR; returns the exit code (2: user mistake)."""
    console = Console()
    try:
        args = parse_args(argv)
        if min(args.batch_size, args.image_size, args.batches) < 1:
            raise ValueError("--batch-size, --image-size and --batches must be at least 1")
        rows = load_rows(args.data_dir)
        n_rows = len([r for r in rows if r["split"] == args.split])
        if n_rows == 0:
            raise ValueError(f"no rows with split={args.split!r} in {args.data_dir}")
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    labels = LabelSpace.from_rows(rows)
    size = (args.image_size, args.image_size)
    table = Table(
        title=f"input pipeline, {n_rows} {args.split} images at {size[0]}x{size[1]}, batch {args.batch_size}, "
        f"keras backend {keras.backend.backend()}, {os.cpu_count()} CPUs"
    )
    table.add_column("pipeline")
    table.add_column("img/s", justify="right")
    table.add_column("ms/batch", justify="right")
    for name, (kwargs, full_epoch) in CASES.items():
        rate = measure(
            args.data_dir,
            args.split,
            labels,
            n_rows,
            args.batch_size,
            size,
            args.batches,
            kwargs,
            full_epoch,
        )
        table.add_row(name, f"{rate:,.0f}", f"{1000 * args.batch_size / rate:.1f}")
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
