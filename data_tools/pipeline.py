"""tf.data input pipeline: a dataset folder's manifest.csv -> batches for `model.fit`.

Backend edge: TensorFlow is imported here on purpose. A `tf.data.Dataset` feeds
keras `model.fit` under all three Keras backends (jax, tensorflow, torch); Keras
converts each batch to the backend's arrays. Nothing else in the zoo needs TF.

Rows are addressed by index: each epoch a stream of row indices (the whole split
reshuffled when shuffle=True, padded with -1 for distributed runs, sharded per process)
is turned into pixels, either decoded from the JPEGs or gathered from a pixel cache
(RAM array or memmap file), and the labels are looked up by the same index afterwards.

Each batch is `(images, targets, sample_weights)`:
    images:  float32 (B, H, W, 3), raw RGB pixels 0..255 (models normalise inside).
    targets: one entry per task of the `data_tools.labels.LabelSpace`: a classification
              task one-hot (B, n_classes), a regression task float32 (B, 1) in its
              column's units (e.g. {"artist": ..., "movement": ..., "year": years}).
    sample_weights: same keys, float32 (B,): 1.0 where the label is known, 0.0 where
              it is missing (missing class -> all-zero one-hot, missing value -> 0)
              and for padding rows (`pad_to`).
Pass the dataset straight to `model.fit(dataset)` (a model with dict outputs named
like the keys, `compile(loss={...})`): Keras 3 takes the third element as
`sample_weight` and resolves the dict per output (`keras/src/trainers/compile_utils.py`,
`CompileLoss.call`; `weighted_metrics` get the same dict). With the default loss
reduction "sum_over_batch_size" a masked sample adds 0 but still counts in the batch
size; a loss built with reduction="mean_with_sample_weight" averages over known labels.
"""

import hashlib
import math
from collections import Counter
from pathlib import Path

import numpy as np
import psutil
import tensorflow as tf
from rich.console import Console
from rich.progress import Progress

from data_tools.decode import decode_jpeg
from data_tools.files import atomic_path
from data_tools.labels import OUT_OF_SET_CODE, PRIMARY, LabelSpace
from data_tools.manifest import MANIFEST, SPLITS, read_manifest

MEMORY_FRACTION = 0.25  # cache in RAM when the decoded split fits in this share of free RAM
CACHE_SUFFIX = ".u8"  # a disk cache file: raw uint8 pixels (n, H, W, 3), read by np.memmap
FILL_BATCH = 256  # images decoded per step while a cache is filled


def load_rows(data_dir, split: str | None = None) -> list[dict]:
    """Rows of DIR/manifest.csv (`data_tools.manifest.read_manifest`), optionally one split."""
    rows = read_manifest(data_dir)
    if split is not None:
        if split not in SPLITS:
            raise ValueError(f"split {split!r}: valid splits are {', '.join(SPLITS)}")
        rows = [r for r in rows if r["split"] == split]
    return rows


def count_per_class(rows: list[dict], key: str = "artist") -> dict[str, int]:
    """Number of rows per value of `key` (empty values skipped), sorted by name."""
    counts = Counter(r[key] for r in rows if r.get(key))
    return dict(sorted(counts.items()))


def encode_rows(rows: list[dict], labels: LabelSpace) -> dict[str, np.ndarray]:
    """Per task of `labels`, one value per row (`LabelSpace.encode`): int32 class ids (-1
    where the label is missing) or float32 values (NaN where missing).

    Raises ValueError naming labels (e.g. artists) that are not in the label space.
    """
    return labels.encode(rows)


def decode_image(path, image_size: tuple[int, int]):
    """JPEG file -> uint8 (H, W, 3) resized to `image_size` (see `decode_jpeg`)."""
    return decode_jpeg(tf.io.read_file(path), image_size)


def cache_target(cache, data_dir, split: str, image_size, paths: list[str]) -> str | None:
    """Resolve the `cache` argument to None (no cache), "" (memory) or a cache file.

    True picks memory when the decoded uint8 split fits in MEMORY_FRACTION of the
    available RAM, else a file under DIR/.cache. The cache holds pixels only (labels
    are joined after it), and its file name holds a digest of the image size and of
    `paths` (each image's path and content SHA-1 from the manifest), so a changed image
    list, image size or image content never reads a stale cache.
    """
    if cache is False or cache is None:
        return None
    if cache == "memory":
        return ""
    nbytes = len(paths) * image_size[0] * image_size[1] * 3
    if cache is True:
        if nbytes <= MEMORY_FRACTION * psutil.virtual_memory().available:
            return ""
        cache = "disk"
    digest = hashlib.sha1("\n".join([str(image_size), *paths]).encode())
    name = f"{split}-{image_size[0]}x{image_size[1]}-{digest.hexdigest()[:12]}{CACHE_SUFFIX}"
    folder = Path(data_dir) / ".cache" if cache == "disk" else Path(cache)
    if cache == "disk" or folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder / name)
    folder.parent.mkdir(parents=True, exist_ok=True)
    return f"{folder}-{name}"


def pixel_cache(paths: list[str], image_size, target: str) -> np.ndarray:
    """Every image of `paths` decoded once: uint8 (n, H, W, 3), addressable by row index.

    target "" keeps the array in RAM; a file name keeps it in a raw uint8 file read
    through np.memmap (written under a temporary name and renamed when complete, so
    an interrupted fill is never reused). Decoding runs in parallel in tf.data.
    """
    shape = (len(paths), *image_size, 3)
    if target and Path(target).is_file():
        return np.memmap(target, np.uint8, "r", shape=shape)
    if not target:
        return _fill(np.empty(shape, np.uint8), paths, image_size)
    with atomic_path(target) as tmp:  # an interrupted fill is never reused
        out = _fill(np.memmap(tmp, np.uint8, "w+", shape=shape), paths, image_size)
        out.flush()
        del out
    return np.memmap(target, np.uint8, "r", shape=shape)


def _fill(out: np.ndarray, paths: list[str], image_size) -> np.ndarray:
    """Decode `paths` in parallel (tf.data) into `out` (n, H, W, 3) uint8; returns `out`."""
    ds = tf.data.Dataset.from_tensor_slices(paths)
    ds = ds.map(lambda p: decode_image(p, image_size), num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.batch(FILL_BATCH).prefetch(2)
    done = 0
    with Progress(transient=True, console=Console(stderr=True), disable=len(paths) < 2000) as bar:
        task = bar.add_task("decoding images into the cache", total=len(paths))
        for batch in ds.as_numpy_iterator():
            out[done : done + len(batch)] = batch
            done += len(batch)
            bar.update(task, completed=done)
    return out


def batch_targets(labels: LabelSpace, codes: dict[str, np.ndarray], augmenter=None, outlier_weight: float = 0.0):
    """Batched (uint8 images, row indices) -> (float32 images, targets, sample_weights).

    Labels are looked up by row index (`codes` from `encode_rows`) after decoding or
    the pixel cache, never cached themselves. Index -1 is padding: every weight 0.
    `augmenter(images, targets, weights)` (see data_tools.augment) runs on the uint8
    batch, so cheap ops such as flips touch 4x fewer bytes than on float32.
    Out-of-set rows (`OUT_OF_SET_CODE`) get a uniform primary target with weight
    `outlier_weight` (outlier exposure, Hendrycks et al. 2019; 0: not trained on).
    """
    table = {k: tf.constant(v) for k, v in codes.items()}

    def to_targets(images, index):
        valid = tf.cast(index >= 0, tf.float32)
        targets, weights = {}, {}
        for task in labels.tasks:
            code = tf.gather(table[task.name], tf.maximum(index, 0))
            if task.is_regression:  # NaN (missing) -> 0 with weight 0
                known = tf.logical_not(tf.math.is_nan(code))
                targets[task.name] = tf.where(known, code, tf.zeros_like(code))[:, None]
                weights[task.name] = valid * tf.cast(known, tf.float32)
            else:  # class id -1 (missing) one-hot encodes to all zeros
                targets[task.name] = tf.one_hot(code, len(task.classes))
                weights[task.name] = valid * tf.cast(code >= 0, tf.float32)
                if task.name == PRIMARY:  # out-of-set rows: uniform, weight `outlier_weight`
                    out_of_set = tf.cast(code == OUT_OF_SET_CODE, tf.float32)
                    targets[task.name] += out_of_set[:, None] / len(task.classes)
                    weights[task.name] += valid * outlier_weight * out_of_set
        if augmenter is not None:
            images, targets, weights = augmenter(images, targets, weights)
        return tf.cast(images, tf.float32), targets, weights

    return to_targets


def index_stream(n: int, *, shuffle: bool, seed: int, pad_to: int, shard) -> tf.data.Dataset:
    """Row indices of one epoch: all n, reshuffled every epoch when `shuffle`, then -1s
    up to a multiple of `pad_to`, then this process's `shard` (every count-th index)."""
    index = tf.data.Dataset.range(n)
    if shuffle:  # the whole index, a new order every epoch (a buffer of n int64s)
        index = index.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    padded = -(-n // pad_to) * pad_to
    if padded > n:
        index = index.concatenate(tf.data.Dataset.from_tensors(np.int64(-1)).repeat(padded - n))
    return index if shard is None else index.shard(*shard)


def make_dataset(
    data_dir,
    split: str,
    labels: LabelSpace,
    *,
    image_size: tuple[int, int] = (128, 128),
    batch_size: int = 16,
    shuffle: bool = False,
    augment="none",
    mix: str | None = None,
    cache=True,
    balanced: bool = False,
    seed: int = 0,
    drop_remainder: bool = False,
    repeat: bool = False,
    shard: tuple[int, int] | None = None,
    pad_to: int = 1,
    outlier_weight: float = 0.0,
) -> tf.data.Dataset:
    """Batches `(images, targets, sample_weights)` of one split (see the module docstring).

    Args:
        cache: True (RAM if it fits, else a file under DIR/.cache), False, "memory",
            "disk", or a path (folder or file prefix). A cache holds decoded pixels
            only and is filled when the dataset is made; epochs then skip decoding.
        shuffle: seeded; the whole split is reshuffled every epoch (before decoding,
            or by index into the pixel cache).
        augment, mix: policy names of `data_tools.augment.make_augmenter`, applied per
            batch after batching (use "none"/None for evaluation); `augment` may also
            be a ready `fn(images, targets, weights)` (then `mix` must be None).
        balanced: sample artists uniformly (`sample_from_datasets` over one repeated,
            fully shuffled index stream per artist; rows without one are one more stream). The stream is infinite, so it
            needs repeat=True and `model.fit(..., steps_per_epoch=...)`.
        repeat: repeat forever (batches then span epoch boundaries).
        pad_to: pad each epoch with weight-0 samples to a multiple of this many rows
            (the global batch of a distributed run), so every process gets the same
            number of full batches and every device an equal slice; every real image
            is still seen once per epoch and weight-0 samples count in no metric.
        shard: `(count, index)`: keep every count-th index from `index` (after the
            shuffle and padding; every process uses the same seed), for one process of
            a multi-host run; `batch_size` is then this process's share of the global
            batch. With balanced=True the rows themselves are sharded.
        outlier_weight: loss weight of the uniform artist target of out-of-set rows
            (`batch_targets`; 0: weight 0, as a missing label).
    """
    if balanced and not repeat:
        raise ValueError("balanced=True needs repeat=True (the balanced stream is infinite)")
    augmenter = _augmenter(augment, mix, seed)
    rows = load_rows(data_dir, split)
    if not rows:
        raise ValueError(f"no rows with split={split!r} in {Path(data_dir) / MANIFEST}")
    image_size = (int(image_size[0]), int(image_size[1]))
    codes = encode_rows(rows, labels)
    files = [str(Path(data_dir) / r["path"]) for r in rows]
    target = cache_target(cache, data_dir, split, image_size, [f"{r['path']}\t{r['sha1']}" for r in rows])
    pixels = None if target is None else pixel_cache(files, image_size, target)
    if balanced:
        index = balanced_stream(codes[PRIMARY], seed=seed, shard=shard)
    else:
        index = index_stream(len(rows), shuffle=shuffle, seed=seed, pad_to=pad_to, shard=shard)
        index = index.repeat() if repeat else index
    ds = _pixel_batches(index, files, pixels, image_size, batch_size, drop_remainder)
    ds = ds.map(batch_targets(labels, codes, augmenter, outlier_weight), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _pixel_batches(index, files: list[str], pixels, image_size, batch_size: int, drop_remainder: bool):
    """Batches `(images, row index)` from a stream of row indices: decoded from `files` each
    epoch (in parallel, in the stream's order), or gathered from the `pixels` cache."""
    if pixels is None:
        files = tf.constant(files)
        return index.map(
            lambda i: (decode_image(tf.gather(files, tf.maximum(i, 0)), image_size), i),
            num_parallel_calls=tf.data.AUTOTUNE,
        ).batch(batch_size, drop_remainder=drop_remainder)
    # one numpy gather per batch from the RAM array or the memmap file
    ds = index.batch(batch_size, drop_remainder=drop_remainder)
    return ds.map(_gather_from(pixels, image_size), num_parallel_calls=tf.data.AUTOTUNE)


def _augmenter(augment, mix, seed: int):
    """make_dataset's `augment`/`mix` as one `fn(images, targets, weights)`, or None."""
    if callable(augment):
        if mix is not None:
            raise ValueError("mix cannot be combined with a callable augment; mix inside it")
        return augment
    if augment == "none" and mix is None:
        return None
    # Imported here so a plain pipeline does not import keras (and fix its backend).
    from data_tools.augment import make_augmenter

    return make_augmenter(augment, mix=mix, seed=seed)


def balanced_stream(classes: np.ndarray, *, seed: int, shard) -> tf.data.Dataset:
    """Row indices with every class (e.g. artist id per row) equally likely: one repeated,
    fully shuffled stream per class, sampled uniformly; infinite. Rows without the class (-1:
    no artist, under a published split of another task such as artgan-genre) form one stream
    of their own, so their other labels are still learnt. `shard` as in make_dataset (here
    the rows themselves are sharded)."""
    mine = np.arange(len(classes))
    mine = mine if shard is None else mine[shard[1] :: shard[0]]
    streams = []
    for value in sorted(set(classes[mine].tolist())):
        keep = mine[classes[mine] == value]
        stream = tf.data.Dataset.from_tensor_slices(keep.astype(np.int64)).repeat()
        streams.append(stream.shuffle(len(keep), seed=seed + value))
    return tf.data.Dataset.sample_from_datasets(streams, seed=seed)


def _gather_from(pixels: np.ndarray, image_size):
    """Batched row indices -> (uint8 pixels (B, H, W, 3) from the cache, the indices)."""

    def gather(index):
        images = tf.numpy_function(lambda i: pixels[np.maximum(i, 0)], [index], tf.uint8, stateful=False)
        return tf.ensure_shape(images, (None, *image_size, 3)), index

    return gather


def steps_per_epoch(n_rows: int, batch_size: int) -> int:
    """Batches that cover `n_rows` once (for repeated or balanced datasets)."""
    return max(1, math.ceil(n_rows / batch_size))
