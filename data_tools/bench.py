"""Input-pipeline throughput benchmark (`python -m data_tools bench DIR`, data_tools/cli/bench.py).

Runs on the current Keras backend (KERAS_BACKEND); tf.data does the work either way,
but keras preprocessing layers inside it can be slower under some backends.
"""

import math
import os
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


def run(data_dir, split: str, batch_size: int, image_size: int, batches: int) -> None:
    """Print a rich table of pipeline img/s for `data_dir` (`python -m data_tools bench`);
    ValueError when the split has no rows."""
    rows = load_rows(data_dir)
    n_rows = len([r for r in rows if r["split"] == split])
    if n_rows == 0:
        raise ValueError(f"no rows with split={split!r} in {data_dir}")
    labels = LabelSpace.from_rows(rows)
    size = (image_size, image_size)
    table = Table(
        title=f"input pipeline, {n_rows} {split} images at {size[0]}x{size[1]}, batch {batch_size}, "
        f"keras backend {keras.backend.backend()}, {os.cpu_count()} CPUs"
    )
    table.add_column("pipeline")
    table.add_column("img/s", justify="right")
    table.add_column("ms/batch", justify="right")
    for name, (kwargs, full_epoch) in CASES.items():
        rate = measure(data_dir, split, labels, n_rows, batch_size, size, batches, kwargs, full_epoch)
        table.add_row(name, f"{rate:,.0f}", f"{1000 * batch_size / rate:.1f}")
    Console().print(table)
