"""Clean candidate images in parallel: read in this process, decode/resize/encode/fingerprint
in `workers` processes, results in input order.

The CPU work of an ingest is the per-image `images.to_jpeg` (a full decode of a 1,500-px
JPEG, a resize to `--max-side`, an encode) and the near-duplicate pHash; both run in
worker processes (spawned: safe next to pyarrow's and datasets' threads). Candidates are
taken in bounded batches, so a stream of 81k images never sits in memory at once:
at most `workers * BATCH_PER_WORKER` encoded images are in flight.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import zipfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial

from data_tools import images, neardup
from data_tools.images import Rejected

BATCH_PER_WORKER = 16
POOL_MIN = 64  # fewer candidates than this are cleaned in this process (no pool to start)


def default_workers() -> int:
    """Worker processes for an ingest: this machine's cores, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


def clean_bytes(data, max_side: int | None, max_pixels: int, fingerprint: bool):
    """(jpeg bytes, (pHash, pixels) or None) for raw bytes or a PIL image; a str reason
    (`images.REASONS`) when they are rejected."""
    try:
        jpeg = images.to_jpeg(data, max_side, max_pixels)
    except Rejected as rej:
        return rej.reason
    return jpeg, neardup.fingerprint(jpeg) if fingerprint else None


def read_candidate(cand, need_artist: bool = True):
    """The candidate's bytes or image; a str reason for one that cannot be read (or that
    has no artist, when `need_artist`)."""
    if need_artist and not cand.artist.strip():
        return "no artist"
    try:
        return cand.read()
    except Rejected as rej:
        return rej.reason
    except FileNotFoundError:
        return "missing file"
    except (OSError, EOFError, zipfile.BadZipFile):
        return "damaged image"


def cleaned(candidates: Iterable, *, max_side, max_pixels, fingerprint: bool, workers: int,
            total: int | None = None, need_artist: bool = True) -> Iterator[tuple]:
    """Yield `(candidate, outcome)` in input order; outcome as `clean_bytes` (or a read's
    rejection reason). `workers` > 1 cleans in that many processes, unless `total` (the
    number of candidates, when known) is below POOL_MIN. `need_artist`: a candidate without
    an artist is rejected ("no artist"), as everywhere but a non-artist published protocol."""
    work = partial(clean_bytes, max_side=max_side, max_pixels=max_pixels, fingerprint=fingerprint)
    small = total is not None and total < POOL_MIN
    if workers <= 1 or small:
        for cand in candidates:
            data = read_candidate(cand, need_artist)
            yield cand, data if isinstance(data, str) else work(data)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        stream = iter(candidates)
        while batch := list(itertools.islice(stream, workers * BATCH_PER_WORKER)):
            data = [read_candidate(c, need_artist) for c in batch]
            done = iter(pool.map(work, [d for d in data if not isinstance(d, str)], chunksize=2))
            for cand, item in zip(batch, data, strict=True):
                yield cand, item if isinstance(item, str) else next(done)
