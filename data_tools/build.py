"""Write a dataset folder from candidate images: clean, dedupe, select, split, write.

Every source (synth and each ingest kind) turns its input into `Candidate`s plus
early rejections; `write_dataset` does the rest the same way for all of them:

1. candidates are processed in `source` order; each is read and cleaned
   (`images.to_jpeg`); the first usable copy of an image_id / of a JPEG content
   hash wins, later ones are "duplicate id" / "duplicate content"; artist names
   are kept as given, only stripped and NFC-normalised;
2. near duplicates (`data_tools.neardup`: resized, recompressed, slightly cropped
   copies of one artist's image) are grouped; the member with the most pixels (then
   the first by source) is kept, the others are "near duplicate". Rejecting rather
   than keeping the group together in one split: a copy adds no new painting to
   learn from, and in val/test it would count one painting several times;
3. artists with fewer than `min_per_artist` usable images are dropped, then the
   `top_artists` artists with the most usable images are kept (ties by name);
4. splits are assigned (`split.assign_splits`: stable per image), then rejected.csv
   (with the kept image's source in `duplicate_of` for duplicates), protocol.json
   (`data_tools.protocol`) and finally manifest.csv are written.

A source's published split (`BuildOptions.protocol`, e.g. ArtGAN's lists; each candidate's
`split` is "train" or "test") is kept exactly instead: nothing is rejected as a duplicate
of another image or by artist selection (that would change the benchmark), the published
train part gives train and a stable val part (`split.assign_published`), the published
test part is test, and protocol.json counts the test images with a near duplicate in train.
A protocol whose task is not the artist (`BuildOptions.protocol_task`, e.g. ArtGAN's genre
lists) keeps rows without an artist (empty artist, images under ``images/_no-artist/``) and
carves val stratified by that task's column; everywhere else a row needs an artist.

Candidates are a list (processed in `source` order) or, for a streamed source, an
iterator (its own order; `total` sizes the progress bar); each is cleaned in worker
processes (`data_tools.clean`) and written to disk at once, so only labels stay in memory.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from data_tools import clean, images, neardup
from data_tools import protocol as protocol_file
from data_tools.manifest import DataError, write_manifest, write_rejected
from data_tools.plural import plural
from data_tools.split import assign_exact, assign_published, assign_splits

INCOMING = ".incoming"
NO_ARTIST = "_no-artist"  # the image folder of rows without an artist (no slug starts with "_")


@dataclass
class Candidate:
    """One input image with its labels; `read` returns its bytes (or a PIL image).
    `labels`: further label columns (genre, style, ...; "" where unknown); `split`: the
    source's published split ("train"/"test"), "" where it has none."""

    source: str
    image_id: str
    artist: str
    year: int | None
    movement: str
    read: Callable[[], object]
    labels: dict = field(default_factory=dict)
    split: str = ""


@dataclass
class BuildOptions:
    """Selection, cleaning and split settings shared by every source."""

    top_artists: int = 50  # 0 keeps every artist
    min_per_artist: int = 3
    max_side: int | None = images.MAX_SIDE
    max_pixels: int = images.MAX_PIXELS
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    near_duplicate_bits: int | None = neardup.MAX_BITS  # None: no near-duplicate grouping
    exact_split: bool = False  # exact per-artist quotas instead of stable keys (synth)
    protocol: str | None = None  # keep the candidates' published split under this name
    protocol_task: str = "artist"  # the task whose lists define that split's rows ("genre", "style")
    val_from_train: float = protocol_file.VAL_FROM_TRAIN  # published split: share of train that is val
    workers: int = 1  # processes that clean images (`data_tools.clean`)


@dataclass
class BuildResult:
    """What a build kept and rejected."""

    kept: int
    artists: int
    reasons: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def safe_id(raw: str) -> str:
    """`raw` if it is a safe file stem (letters, digits, _ - .), else a short hash of it."""
    text = unicodedata.normalize("NFC", raw.strip())
    if re.fullmatch(r"[\w\-.]{1,80}", text) and not text.startswith("."):
        return text
    return "h" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def slugify(name: str) -> str:
    """Folder name for an artist: lower case, non-word runs become '-', Unicode kept."""
    slug = re.sub(r"[\W_]+", "-", unicodedata.normalize("NFC", name).lower()).strip("-")
    return slug[:60].strip("-") or "artist"


def artist_slugs(artists: list[str]) -> dict[str, str]:
    """A distinct slug per artist (collisions get -2, -3, ... in sorted-name order)."""
    taken: set[str] = set()
    out = {}
    for artist in sorted(artists):
        base = slug = slugify(artist)
        n = 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        out[artist] = slug
    return out


def write_dataset(
    folder: Path,
    candidates: Iterable[Candidate],
    rejected: list[tuple[str, str]],
    opts: BuildOptions,
    console: Console | None = None,
    label: str = "images",
    total: int | None = None,
) -> BuildResult:
    """Fill the empty `folder` with images/, rejected.csv, protocol.json and (last)
    manifest.csv; `total`: how many candidates an iterator yields (the progress bar)."""
    start = time.perf_counter()
    folder = Path(folder)
    incoming = folder / INCOMING
    incoming.mkdir(parents=True, exist_ok=True)
    rejected = list(rejected)
    rows = _clean_all(candidates, incoming, rejected, opts, console, label, total)
    if opts.near_duplicate_bits is not None and not opts.protocol:
        rows = _drop_near_duplicates(rows, rejected, opts.near_duplicate_bits)
    if not opts.protocol:
        rows = _select_artists(rows, rejected, opts)
    if not rows:
        reasons = Counter(r[1] for r in rejected)
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())) or "no input images"
        raise DataError(f"{label}: no usable images ({detail})")
    if opts.protocol:
        assign_published(rows, opts.val_from_train, opts.seed, by=protocol_file.column_of(opts.protocol_task))
        record = protocol_file.published(opts.protocol, opts.val_from_train, opts.seed,
                                         _test_near_train(rows, opts.near_duplicate_bits), opts.protocol_task)
    else:
        (assign_exact if opts.exact_split else assign_splits)(rows, opts.split, opts.seed)
        record = protocol_file.stable(opts.split, opts.seed, exact=opts.exact_split)
    named = sorted({r["artist"] for r in rows} - {""})
    slugs = {**artist_slugs(named), "": NO_ARTIST}
    for slug in {slugs[r["artist"]] for r in rows}:
        (folder / "images" / slug).mkdir(parents=True, exist_ok=True)
    for row in rows:
        row["path"] = f"images/{slugs[row['artist']]}/{row['image_id']}.jpg"
        os.replace(row.pop("_tmp"), folder / row["path"])
    incoming.rmdir()
    rows.sort(key=lambda r: r["path"])
    rejected = sorted(set(rejected))
    write_rejected(folder, rejected)
    protocol_file.write(folder, record)
    write_manifest(folder, rows)
    return BuildResult(
        kept=len(rows),
        artists=len(named),
        reasons=Counter(r[1] for r in rejected),
        seconds=time.perf_counter() - start,
    )


def _clean_all(candidates, incoming, rejected, opts, console, label, total=None) -> list[dict]:
    """Read, clean and dedupe every candidate; usable ones are written to `incoming`.
    Under a published protocol only a repeated image_id is a duplicate."""
    rows: list[dict] = []
    seen_ids: set[str] = set()
    seen_sha1: dict[str, str] = {}  # content hash -> source of the kept copy
    if isinstance(candidates, list):
        candidates, total = sorted(candidates, key=lambda c: (c.source, c.image_id)), len(candidates)
    fingerprint = opts.near_duplicate_bits is not None
    outcomes = clean.cleaned(candidates, max_side=opts.max_side, max_pixels=opts.max_pixels,
                             fingerprint=fingerprint, workers=opts.workers, total=total,
                             need_artist=not (opts.protocol and opts.protocol_task != "artist"))
    with _progress(console) as progress:
        task = progress.add_task(label, total=total)
        for n, (cand, outcome) in enumerate(outcomes):
            progress.advance(task)
            image_id = safe_id(cand.image_id)
            if isinstance(outcome, str):
                rejected.append((cand.source, outcome))
                continue
            jpeg, print_ = outcome
            sha1 = hashlib.sha1(jpeg).hexdigest()
            if image_id in seen_ids:
                rejected.append((cand.source, "duplicate id"))
                continue
            if sha1 in seen_sha1 and not opts.protocol:
                rejected.append((cand.source, "duplicate content", seen_sha1[sha1]))
                continue
            seen_ids.add(image_id)
            seen_sha1.setdefault(sha1, cand.source)
            tmp = incoming / f"{n}.jpg"
            tmp.write_bytes(jpeg)
            rows.append({
                "image_id": image_id,
                "artist": _text(cand.artist),
                "year": cand.year,
                "movement": _text(cand.movement),
                **{name: _text(value) for name, value in cand.labels.items()},
                "sha1": sha1,
                "source": cand.source,
                "_published": cand.split,
                "_tmp": tmp,
                "_fingerprint": print_,
            })
    return rows


def _text(value) -> str:
    """A label as the manifest stores it: stripped, NFC-normalised, "" for None."""
    return unicodedata.normalize("NFC", str(value or "").strip())


def _test_near_train(rows: list[dict], max_bits: int | None) -> int | None:
    """How many test rows share a near-duplicate group (`neardup.group_ids`, same artist)
    with a train/val row; None without fingerprints."""
    if max_bits is None or not rows:
        return None
    groups = neardup.group_ids([r["_fingerprint"][0] for r in rows], [r["artist"] for r in rows], max_bits)
    trained = {g for r, g in zip(rows, groups, strict=True) if r["split"] != "test"}
    return sum(r["split"] == "test" and g in trained for r, g in zip(rows, groups, strict=True))


def _drop_near_duplicates(rows: list[dict], rejected: list, max_bits: int) -> list[dict]:
    """Keep one image per near-duplicate group (most pixels, then first source)."""
    order = sorted(rows, key=lambda r: (-r["_fingerprint"][1], r["source"]))
    groups = neardup.group_ids(
        [r["_fingerprint"][0] for r in order], [r["artist"] for r in order], max_bits
    )
    kept = []
    for row, group in zip(order, groups, strict=True):
        if order[group] is row:
            kept.append(row)
        else:
            rejected.append((row["source"], "near duplicate", order[group]["source"]))
            row["_tmp"].unlink()
    return sorted(kept, key=lambda r: r["source"])


def _select_artists(rows: list[dict], rejected: list, opts: BuildOptions) -> list[dict]:
    """Drop artists below min_per_artist, then keep the top_artists largest."""
    counts = Counter(r["artist"] for r in rows)
    few = {a for a, n in counts.items() if n < opts.min_per_artist}
    ranked = sorted((a for a in counts if a not in few), key=lambda a: (-counts[a], a))
    beyond = set(ranked[opts.top_artists :]) if opts.top_artists > 0 else set()
    if beyond:
        dropped = sum(counts[a] for a in beyond)
        print(
            f"notice: kept the {plural(opts.top_artists, 'artist')} with most images; "
            f"{plural(len(beyond), 'more artist')} ({plural(dropped, 'image')}) dropped "
            "(--top-artists 0 keeps all)",
            file=sys.stderr,
        )
    kept = []
    for row in rows:
        if row["artist"] in few or row["artist"] in beyond:
            reason = "too few images for artist" if row["artist"] in few else "artist not in top N"
            rejected.append((row["source"], reason))
            row["_tmp"].unlink()
        else:
            kept.append(row)
    return kept


def _progress(console: Console | None) -> Progress:
    """A rich progress bar over files."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        transient=False,
    )


def summary_table(result: BuildResult, title: str) -> Table:
    """Kept / rejected-per-reason counts as a rich table."""
    table = Table(title=title)
    table.add_column("outcome")
    table.add_column("files", justify="right")
    table.add_row(f"kept ({plural(result.artists, 'artist')})", str(result.kept), style="green")
    for reason, n in sorted(result.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(f"rejected: {reason}", str(n))
    table.add_row("total", str(result.kept + sum(result.reasons.values())), style="bold")
    return table
