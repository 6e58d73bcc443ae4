"""tf.data input pipeline: a dataset folder's manifest.csv -> batches for `model.fit`.

Backend edge: TensorFlow is imported here on purpose. A `tf.data.Dataset` feeds
keras `model.fit` under all three Keras backends (jax, tensorflow, torch); Keras
converts each batch to the backend's arrays. Nothing else in the zoo needs TF.

Each batch is `(images, targets, sample_weights)`:
    images:  float32 (B, H, W, 3), raw RGB pixels 0..255 (models normalise inside).
    targets: {"artist": one-hot (B, n_artists), "movement": one-hot (B, n_movements),
              "year": float32 (B, 1) in years}, only the keys of `LabelSpace.tasks()`.
    sample_weights: same keys, float32 (B,): 1.0 where the label is known, 0.0 where
              it is missing (missing movement -> all-zero one-hot, missing year -> 0).
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import tensorflow as tf

from data_tools.manifest import label_info, read_manifest

MANIFEST = "manifest.csv"
SPLITS = ("train", "val", "test")
MEMORY_FRACTION = 0.25  # cache in RAM when the decoded split fits in this share of free RAM
SHUFFLE_BUFFER = 1024  # per-epoch buffer; rows are also permuted once before decoding
DEFAULT_YEAR = (1850.0, 100.0)  # (mean, std) when no year is known


@dataclass(frozen=True)
class LabelSpace:
    """Class names and year statistics shared by the data and the model heads.

    Attributes:
        artists: sorted artist names over all splits (index = class id).
        movements: sorted non-empty movement names (may be empty).
        year_mean, year_std: statistics of known train years, in years (std >= 1).
        has_year: False when no train row has a year (the year task is then dropped).
    """

    artists: tuple[str, ...]
    movements: tuple[str, ...]
    year_mean: float
    year_std: float
    has_year: bool = True

    @classmethod
    def from_rows(cls, rows: list[dict]) -> "LabelSpace":
        """Build from manifest rows (all splits; years from the train split only)."""
        if not rows:
            raise ValueError("cannot build a label space from zero manifest rows")
        vocab = label_info(rows)
        has_year = any(r["split"] == "train" and r.get("year") for r in rows)
        if not has_year:
            return cls(tuple(vocab.artists), tuple(vocab.movements), *DEFAULT_YEAR, has_year=False)
        return cls(tuple(vocab.artists), tuple(vocab.movements), vocab.year_mean, vocab.year_std)

    def tasks(self) -> dict:
        """Head name -> number of classes, or "regression" for the year."""
        tasks = {"artist": len(self.artists)}
        if len(self.movements) >= 2:  # one movement is nothing to learn
            tasks["movement"] = len(self.movements)
        if self.has_year:
            tasks["year"] = "regression"
        return tasks


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
    """Integer labels per row: artist id, movement id (-1 unknown), year and year_known."""
    artist_ids = {a: i for i, a in enumerate(labels.artists)}
    movement_ids = {m: i for i, m in enumerate(labels.movements)}
    unknown = {r["artist"] for r in rows} - artist_ids.keys()
    if unknown:
        raise ValueError(f"artists not in the label space: {', '.join(sorted(unknown))}")
    unknown = {r["movement"] for r in rows if r.get("movement")} - movement_ids.keys()
    if unknown:
        raise ValueError(f"movements not in the label space: {', '.join(sorted(unknown))}")
    return {
        "artist": np.array([artist_ids[r["artist"]] for r in rows], np.int32),
        "movement": np.array(
            [movement_ids.get(r.get("movement") or "", -1) for r in rows], np.int32
        ),
        "year": np.array([float(r["year"]) if r.get("year") else 0.0 for r in rows], np.float32),
        "year_known": np.array([1.0 if r.get("year") else 0.0 for r in rows], np.float32),
    }


def decode_image(path, image_size: tuple[int, int]):
    """JPEG file -> uint8 (H, W, 3) resized to `image_size`.

    Large JPEGs are decoded at 1/2, 1/4 or 1/8 scale by libjpeg (DCT scaling) when
    that still leaves both sides >= the target, which is several times faster. The
    remaining shrink along the tighter side is then < 2x, so plain bilinear resizing
    (no antialias, which halves throughput at 128 px) is enough. The aspect ratio is
    not kept: paintings are squashed to `image_size`.
    """
    data = tf.io.read_file(path)
    shape = tf.image.extract_jpeg_shape(data)
    fit = tf.minimum(shape[0] // image_size[0], shape[1] // image_size[1])
    branch = tf.cast(fit >= 2, tf.int32) + tf.cast(fit >= 4, tf.int32) + tf.cast(fit >= 8, tf.int32)
    image = tf.switch_case(
        branch,
        [lambda r=r: tf.io.decode_jpeg(data, channels=3, ratio=r) for r in (1, 2, 4, 8)],
    )
    image = tf.image.resize(image, image_size)
    return tf.saturate_cast(tf.round(image), tf.uint8)


def cache_target(cache, data_dir, split: str, image_size, paths: list[str]) -> str | None:
    """Resolve the `cache` argument to None (no cache), "" (memory) or a file prefix.

    True picks memory when the decoded uint8 split fits in MEMORY_FRACTION of the
    available RAM, else a file under DIR/.cache. The file name holds a digest of the
    paths and the size, so a changed manifest or image size never reads a stale cache.
    """
    if cache is False or cache is None:
        return None
    if cache == "memory":
        return ""
    digest = hashlib.sha1("\n".join(paths).encode()).hexdigest()[:10]
    name = f"{split}-{image_size[0]}x{image_size[1]}-{digest}"
    if cache is True:
        nbytes = len(paths) * image_size[0] * image_size[1] * 3
        if nbytes <= MEMORY_FRACTION * psutil.virtual_memory().available:
            return ""
        cache = "disk"
    folder = Path(data_dir) / ".cache" if cache == "disk" else Path(cache)
    if cache == "disk" or folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder / name)
    folder.parent.mkdir(parents=True, exist_ok=True)
    return str(folder)


def decoded_dataset(paths, codes, image_size, cache: str | None) -> tf.data.Dataset:
    """Unbatched (uint8 image, codes) elements, decoded in parallel and cached after resize."""
    ds = tf.data.Dataset.from_tensor_slices((list(paths), codes))
    ds = ds.map(
        lambda p, c: (decode_image(p, image_size), c),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return ds if cache is None else ds.cache(cache)


def batch_targets(labels: LabelSpace, augmenter=None):
    """Batched (uint8 images, codes) -> (float32 images, targets, sample_weights).

    `augmenter(images, targets, weights)` (see data_tools.augment) runs on the uint8
    batch, so cheap ops such as flips touch 4x fewer bytes than on float32.
    """
    tasks = labels.tasks()

    def to_targets(images, codes):
        n = tf.shape(images)[0]
        targets = {"artist": tf.one_hot(codes["artist"], len(labels.artists))}
        weights = {"artist": tf.ones([n], tf.float32)}
        if "movement" in tasks:  # index -1 one-hot encodes to all zeros
            targets["movement"] = tf.one_hot(codes["movement"], len(labels.movements))
            weights["movement"] = tf.cast(codes["movement"] >= 0, tf.float32)
        if "year" in tasks:
            targets["year"] = codes["year"][:, None]
            weights["year"] = codes["year_known"]
        if augmenter is not None:
            images, targets, weights = augmenter(images, targets, weights)
        return tf.cast(images, tf.float32), targets, weights

    return to_targets


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
) -> tf.data.Dataset:
    """Batches `(images, targets, sample_weights)` of one split (see the module docstring).

    Args:
        cache: True (RAM if it fits, else a disk file under DIR/.cache), False,
            "memory", "disk", or a path (folder or file prefix). Cached epochs skip
            decoding; a disk cache is written by the first complete pass only.
        shuffle: seeded; the order changes every epoch.
        augment, mix: policy names of `data_tools.augment.make_augmenter`, applied per
            batch after batching (use "none"/None for evaluation); `augment` may also
            be a ready `fn(images, targets, weights)` (then `mix` must be None).
        balanced: sample artists uniformly (`sample_from_datasets` over one repeated
            stream per artist). The stream is infinite, so it needs repeat=True and
            `model.fit(..., steps_per_epoch=...)`.
        repeat: repeat forever (batches then span epoch boundaries).
        shard: `(count, index)`: keep every count-th row from `index` (after the
            seeded permutation), for one process of a multi-host run; `batch_size`
            is then this process's share of the global batch.
    """
    if balanced and not repeat:
        raise ValueError("balanced=True needs repeat=True (the balanced stream is infinite)")
    augmenter = None
    if callable(augment):
        if mix is not None:
            raise ValueError("mix cannot be combined with a callable augment; mix inside it")
        augmenter = augment
    elif augment != "none" or mix is not None:
        # Imported here so a plain pipeline does not import keras (and fix its backend).
        from data_tools.augment import make_augmenter

        augmenter = make_augmenter(augment, mix=mix, seed=seed)
    rows = load_rows(data_dir, split)
    if not rows:
        raise ValueError(f"no rows with split={split!r} in {Path(data_dir) / MANIFEST}")
    image_size = (int(image_size[0]), int(image_size[1]))
    if shuffle or balanced:  # one seeded permutation, so a sorted manifest shuffles well
        rows = [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))]
    if shard is not None:
        rows = rows[shard[1] :: shard[0]]
    paths = [str(Path(data_dir) / r["path"]) for r in rows]
    codes = encode_rows(rows, labels)
    target = cache_target(cache, data_dir, split, image_size, [r["path"] for r in rows])

    if balanced:
        streams = []
        for artist in sorted(set(codes["artist"].tolist())):
            keep = np.flatnonzero(codes["artist"] == artist)
            sub_cache = target if not target else f"{target}-a{artist}"  # None, RAM or a file each
            ds = decoded_dataset(
                [paths[i] for i in keep],
                {k: v[keep] for k, v in codes.items()},
                image_size,
                sub_cache,
            )
            buffer = min(len(keep), SHUFFLE_BUFFER)
            streams.append(ds.repeat().shuffle(buffer, seed=seed + artist))
        ds = tf.data.Dataset.sample_from_datasets(streams, seed=seed)
    else:
        ds = decoded_dataset(paths, codes, image_size, target)
        if shuffle:
            ds = ds.shuffle(
                min(len(rows), SHUFFLE_BUFFER), seed=seed, reshuffle_each_iteration=True
            )
        if repeat:
            ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(batch_targets(labels, augmenter), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def steps_per_epoch(n_rows: int, batch_size: int) -> int:
    """Batches that cover `n_rows` once (for repeated or balanced datasets)."""
    return max(1, math.ceil(n_rows / batch_size))
