"""The dataset format shared by every source, and helpers to read it.

A dataset folder DIR holds:

* ``images/<artist-slug>/<image_id>.jpg`` - RGB JPEGs (quality 95);
* ``rejected.csv`` - ``source,reason,duplicate_of`` for every input file that was not
  kept; ``duplicate_of`` names the kept image's source for "duplicate content" and
  "near duplicate" (one near-duplicate group = one kept source), else it is empty;
* ``manifest.csv`` - one row per image with the columns in ``COLUMNS``:
  ``path`` is relative to DIR, ``artist`` is empty only where protocol.json allows it (a
  published split of another task: ``artgan-genre``, ``artgan-style``), ``year`` an
  integer or empty, ``movement`` may be empty, ``split`` is train/val/test, ``sha1`` is the SHA-1 of the written JPEG
  bytes (a clean input JPEG is kept as is, other images are encoded deterministically, and
  ``sha1sum`` can verify a file), ``source`` names the original input file;
  any further column is one more label (genre, style, medium, ...): a class name, or a
  number for a numeric task, empty where unknown (`data_tools.labels.label_columns`).
  Manifests with only the columns above (older datasets) read the same way;
* ``protocol.json`` - which split protocol the ``split`` column follows
  (`data_tools.protocol`; absent in older folders: the zoo's stable split).

manifest.csv is written last (temp file + rename), so a folder is complete
exactly when manifest.csv exists.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from data_tools import protocol
from data_tools.files import atomic_path

COLUMNS = ("image_id", "path", "artist", "year", "movement", "split", "sha1", "source")
REJECTED_COLUMNS = ("source", "reason", "duplicate_of")
SPLITS = ("train", "val", "test")
MANIFEST = "manifest.csv"
REJECTED = "rejected.csv"


class DataError(ValueError):
    """A user-facing problem with input data or an output folder (one-line message)."""


def read_manifest(directory: str | os.PathLike) -> list[dict]:
    """Rows of DIR/manifest.csv; ``year`` is an int or None, every other value (the extra
    label columns too, "" where unknown) a str."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise DataError(f"{path}: no manifest.csv (not a dataset folder, or an unfinished one)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    try:
        artist_optional = protocol.artist_optional(protocol.read(directory))
    except ValueError as exc:
        raise DataError(str(exc)) from None
    rows = [_parse_row(path, n, raw, artist_optional) for n, raw in enumerate(reader, start=2)]
    if not rows:
        raise DataError(f"{path}: no rows")
    return rows


def _parse_row(path: Path, line: int, raw: dict, artist_optional: bool = False) -> dict:
    """Validate and convert one manifest row (`artist_optional`: an empty artist is a
    missing label, as protocol.json allows for a published split of another task)."""
    if None in raw or any(v is None for v in raw.values()):
        raise DataError(f"{path} line {line}: wrong number of fields")
    row = {k: v for k, v in raw.items() if k is not None}
    rel = PurePosixPath(row["path"])
    if not row["path"] or rel.is_absolute() or ".." in rel.parts:
        raise DataError(f"{path} line {line}: bad image path {row['path']!r}")
    if not row["artist"] and not artist_optional:
        raise DataError(f"{path} line {line}: empty artist")
    if row["split"] not in SPLITS:
        raise DataError(f"{path} line {line}: split {row['split']!r} is not train/val/test")
    year = row["year"].strip()
    try:
        row["year"] = int(year) if year else None
    except ValueError:
        raise DataError(f"{path} line {line}: year {year!r} is not an integer") from None
    return row


def write_manifest(directory: str | os.PathLike, rows: Iterable[dict]) -> Path:
    """Write DIR/manifest.csv atomically (this marks the folder complete): `COLUMNS`, then
    every other key the rows carry (keys starting with "_" are private), sorted by name."""
    rows = list(rows)
    extra = sorted({k for r in rows for k in r if k not in COLUMNS and not k.startswith("_")})
    out = []
    for row in rows:
        item = {c: row.get(c, "") for c in (*COLUMNS, *extra)}
        item["year"] = "" if item["year"] in (None, "") else str(int(item["year"]))
        out.append({k: "" if v is None else v for k, v in item.items()})
    return _atomic_csv(Path(directory) / MANIFEST, (*COLUMNS, *extra), out)


def label_column_names(rows: list[dict]) -> tuple[str, ...]:
    """The extra label columns of manifest rows (beyond `COLUMNS`), in file order."""
    return tuple(k for k in (rows[0] if rows else {}) if k not in COLUMNS and not k.startswith("_"))


def write_rejected(directory: str | os.PathLike, rows: Iterable[dict | tuple]) -> Path:
    """Write DIR/rejected.csv atomically; rows are dicts or (source, reason[, duplicate_of])."""
    blank = dict.fromkeys(REJECTED_COLUMNS, "")
    out = [
        {**blank, **(r if isinstance(r, dict) else dict(zip(REJECTED_COLUMNS, r, strict=False)))}
        for r in rows
    ]
    return _atomic_csv(Path(directory) / REJECTED, REJECTED_COLUMNS, out)


def _atomic_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> Path:
    """Write a CSV atomically (data_tools.files), fsynced before the rename."""
    with atomic_path(path, fsync=True) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_rejected(directory: str | os.PathLike) -> list[dict]:
    """Rows of DIR/rejected.csv (source, reason, duplicate_of); empty when the file is absent."""
    path = Path(directory) / REJECTED
    if not path.is_file():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def manifest_hash(directory: str | os.PathLike) -> str:
    """SHA-256 hex digest of DIR/manifest.csv bytes (identifies a dataset version)."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise DataError(f"{path}: no manifest.csv")
    return hashlib.sha256(path.read_bytes()).hexdigest()


