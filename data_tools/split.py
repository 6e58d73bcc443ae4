"""Seeded train/val/test splits, stratified per artist.

Stable splits (`assign_splits`, every ingest): each image gets a key in [0, 1) from a
hash of (seed, image_id) and goes to train below the train fraction, to val in the
next band, else to test. An image's split depends on nothing else, so adding images
never moves an existing one. Per artist, a split that the keys leave empty but the
fractions ask for gets the image whose key lies nearest to that split's band (taken
from a split with two or more images), so every artist with 3 or more images is in
train, val and test; only such fix-ups can change when an artist grows.

Exact quotas (`assign_exact`, the synthetic set, which is never extended): per artist
with n images n_val = max(1, round(n*val)), n_test = max(1, round(n*test)) (0 when
that fraction is 0), the rest train (`split_sizes`), images shuffled with a generator
seeded by (seed, artist). Neither result depends on input order or other artists.

Published splits (`assign_published`, e.g. ArtGAN's lists): the source's test part stays
test (it needs no stratification: the source fixed it); its train part is split stably into
train and val, the fix-ups per value of the protocol's task column (artist, genre, ...; rows
without that label form one group).
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict

from data_tools.manifest import SPLITS, DataError

DEFAULT_SPLIT = "0.8,0.1,0.1"


def parse_split(spec: str) -> tuple[float, float, float]:
    """Parse "train,val,test" fractions: 3 non-negative numbers summing to 1."""
    parts = [p.strip() for p in str(spec).split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 3 or any(not v >= 0 for v in values) or abs(sum(values) - 1) > 1e-6:
        raise DataError(
            f"bad --split {spec!r}: need 3 non-negative numbers summing to 1, e.g. {DEFAULT_SPLIT}"
        )
    if values[0] == 0:
        raise DataError(f"bad --split {spec!r}: the train fraction must be above 0")
    return values  # type: ignore[return-value]


def split_sizes(n: int, fractions: tuple[float, float, float]) -> tuple[int, int, int]:
    """(train, val, test) counts for an artist with n images."""
    _, val, test = fractions
    n_val = max(1, round(n * val)) if val > 0 else 0
    n_test = max(1, round(n * test)) if test > 0 else 0
    if n < 3:  # too few for all three splits: train first, then val, then test
        n_val = min(n_val, max(n - 1, 0))
        n_test = min(n_test, max(n - 1 - n_val, 0))
    while n_val + n_test > n - 1:
        if n_val >= n_test and n_val > 1:
            n_val -= 1
        elif n_test > 1:
            n_test -= 1
        else:
            break
    return n - n_val - n_test, n_val, n_test


def unit_key(seed: int, image_id: str) -> float:
    """A stable pseudo-random number in [0, 1) for one image."""
    digest = hashlib.sha1(f"{seed}/{image_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_splits(rows: list[dict], fractions: tuple[float, float, float], seed: int, by: str = "artist") -> None:
    """Set row["split"] in place from each row's stable key (see the module docstring); the
    per-group fix-ups group rows by their `by` column."""
    bands = (
        (0.0, fractions[0]),
        (fractions[0], fractions[0] + fractions[1]),
        (fractions[0] + fractions[1], 1.0),
    )
    for group in _by_artist(rows, by).values():
        keys = {id(r): unit_key(seed, r["image_id"]) for r in group}
        for row in group:
            k = keys[id(row)]
            row["split"] = "train" if k < bands[0][1] else "val" if k < bands[1][1] else "test"
        wanted = [s for s, n in zip(SPLITS, split_sizes(len(group), fractions), strict=True) if n]
        for split in wanted:
            members = {s: [r for r in group if r["split"] == s] for s in SPLITS}
            if members[split]:
                continue
            band = bands[SPLITS.index(split)]
            # donors: any image of an unwanted split, or of a wanted one that keeps one
            donors = [
                r for s in SPLITS if s not in wanted or len(members[s]) > 1 for r in members[s]
            ]
            if donors:  # the donor whose key lies nearest to the empty split's band
                nearest = min(donors, key=lambda r: (_gap(keys[id(r)], band), r["image_id"]))
                nearest["split"] = split


def _gap(key: float, band: tuple[float, float]) -> float:
    """Distance from `key` to the interval `band` (0 inside it)."""
    return max(band[0] - key, key - band[1], 0.0)


def assign_exact(rows: list[dict], fractions: tuple[float, float, float], seed: int) -> None:
    """Set row["split"] in place with exact per-artist quotas (`split_sizes`)."""
    for artist, group in _by_artist(rows).items():
        group.sort(key=lambda r: r["image_id"])
        random.Random(f"{seed}/{artist}").shuffle(group)
        n_train, n_val, _ = split_sizes(len(group), fractions)
        for i, row in enumerate(group):
            row["split"] = "train" if i < n_train else "val" if i < n_train + n_val else "test"


def _by_artist(rows: list[dict], by: str = "artist") -> dict[str, list[dict]]:
    by_artist: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_artist[row.get(by) or ""].append(row)
    return by_artist


def assign_published(rows: list[dict], val_from_train: float, seed: int, by: str = "artist") -> None:
    """Keep a published split (row["_published"] "train"/"test"): test rows stay test; the
    train rows are split stably (`assign_splits` with `val_from_train` as val, no test,
    grouped by the protocol task's column `by`)."""
    train = [r for r in rows if r["_published"] != "test"]
    for row in rows:
        if row["_published"] == "test":
            row["split"] = "test"
    assign_splits(train, (1.0 - val_from_train, val_from_train, 0.0), seed, by)
    for row in train:  # rounding can leave a sliver of a test band: it is val
        if row["split"] == "test":
            row["split"] = "val"
