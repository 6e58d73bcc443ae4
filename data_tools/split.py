"""Seeded train/val/test splits, stratified per artist.

Per artist with n images: n_val = max(1, round(n*val)), n_test = max(1, round(n*test))
(0 when that fraction is 0), the rest is train; val/test shrink so train keeps at
least one image. So every artist with 3 or more images appears in all three
splits. Images are ordered by image_id and shuffled with a generator seeded by
(seed, artist), so the result does not depend on input order or other artists.
"""

from __future__ import annotations

import random
from collections import defaultdict

from data_tools.manifest import DataError

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


def assign_splits(rows: list[dict], fractions: tuple[float, float, float], seed: int) -> None:
    """Set row["split"] in place for rows with "artist" and "image_id"."""
    by_artist: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_artist[row["artist"]].append(row)
    for artist, group in by_artist.items():
        group.sort(key=lambda r: r["image_id"])
        random.Random(f"{seed}/{artist}").shuffle(group)
        n_train, n_val, _ = split_sizes(len(group), fractions)
        for i, row in enumerate(group):
            row["split"] = "train" if i < n_train else "val" if i < n_train + n_val else "test"
