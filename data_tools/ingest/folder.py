"""A plain folder: one subfolder per artist, images at any depth below it.

The artist is the name of the top-level subfolder, exactly as written. Image
files directly in the root have no artist. An optional ``metadata.csv`` in the
root has the header ``file,year,movement`` plus any further label columns (``genre``,
``style``, ``medium``, ...: header names lower-cased, kept as extra manifest columns);
``file`` is either a path relative to the root ("Monet/x.jpg") or a bare file name
("x.jpg"), which then applies to every image of that name. Relative paths win over bare
names. ``year`` follows `years.parse_year`. The image id is the file's stem plus a short
hash of its source.
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from contextlib import ExitStack
from pathlib import Path

from data_tools.build import Candidate, slugify
from data_tools.images import is_image_name
from data_tools.ingest.sources import Entry, key, open_sources
from data_tools.ingest.years import parse_year
from data_tools.manifest import DataError

METADATA = "metadata.csv"
NOT_EXTRA = ("file", "year", "movement", "artist", "image_id", "path", "split", "sha1", "source")


def collect(paths: list[Path], stack: ExitStack) -> tuple[list[Candidate], list]:
    """Candidates and early rejections for artist folders."""
    candidates, rejected = [], []
    for root in paths:
        if not root.is_dir():
            raise DataError(f"folder: {root} is not a folder")
        entries, _ = open_sources([root], stack, "folder")
        meta = next((parse_metadata(e) for e in entries if e.rel == METADATA), {})
        extras = sorted({k for row in meta.values() for k in row if k and k not in NOT_EXTRA})
        images = [e for e in entries if is_image_name(e.name)]
        unused = set(meta) - {key(e.rel) for e in images} - {key(e.name) for e in images}
        if unused:
            example = meta[sorted(unused)[0]]["file"]
            print(
                f"notice: {root}/{METADATA}: {len(unused)} row(s) name no image file in "
                f"the folder (e.g. {example!r}); they are not used",
                file=sys.stderr,
            )
        for entry in entries:
            if not is_image_name(entry.name):
                continue
            parts = entry.rel.split("/")
            if len(parts) < 2:
                rejected.append((entry.source, "no artist"))
                continue
            info = meta.get(key(entry.rel)) or meta.get(key(entry.name)) or {}
            stem = entry.name.rsplit(".", 1)[0]
            digest = hashlib.sha1(entry.source.encode("utf-8")).hexdigest()[:8]
            candidates.append(
                Candidate(
                    source=entry.source,
                    image_id=f"{slugify(stem)[:40]}-{digest}",
                    artist=parts[0],
                    year=parse_year(info.get("year")),
                    movement=(info.get("movement") or "").strip(),
                    read=entry.read,
                    labels={k: (info.get(k) or "").strip() for k in extras},
                )
            )
    return candidates, rejected


def parse_metadata(entry: Entry) -> dict[str, dict]:
    """metadata.csv rows keyed by their ``file`` value (path or bare name)."""
    try:
        text = entry.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"folder: {entry.source} is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "file" not in fields:
        raise DataError(f"folder: {entry.source} needs a header with a 'file' column")
    reader.fieldnames = fields
    return {key(row["file"]): row for row in reader if row.get("file")}
