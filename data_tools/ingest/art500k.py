"""Art500k: a dataset folder or its subset .zip archives (merged).

* ``head_info.csv`` holds the column names, usually as one Python list literal;
* the label list (``label_list.csv``/``.tsv``/``.txt``) has no header, is ``|``- or
  tab-separated (whichever is more frequent), and its ``Path`` column (else the last)
  is the image path under ``img/``;
* images sit at ``img/<Artists1|Artists2|Art Movement|Medium>/<group>/<Title>##<id>.jpg``.

Defects handled: a row whose path column does not look like an image path takes
the value that does (Field/Path swapped); a listed path that does not exist is
looked up by its ``##id`` among all image files (wrong top folder); files of the
same id beyond the first are "duplicate id"; image files no row names are "not
in label list". Artist is ``author_name``, year ``parse_year(Date)``, movement
``Art Movement`` (else ``Style``); the extra label columns ``genre`` (``Genre``), ``style``
(``Style``) and ``medium`` (``Media``/``Medium``) where head_info names them; the image id
is the ``##id``.
"""

from __future__ import annotations

import ast
import csv
import re
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path

from data_tools.build import Candidate
from data_tools.images import is_image_name
from data_tools.ingest.sources import Entry, key, open_sources
from data_tools.ingest.years import parse_year
from data_tools.manifest import DataError

LABEL_LISTS = ("label_list.csv", "label_list.tsv", "label_list.txt")
HEAD_INFO = "head_info.csv"
EXTRA = {"genre": ("genre",), "style": ("style",), "medium": ("media", "medium")}  # column -> head names


def collect(paths: list[Path], stack: ExitStack) -> tuple[list[Candidate], list]:
    """Candidates and early rejections for Art500k sources."""
    entries, rejected = open_sources(paths, stack, "art500k")
    where = ", ".join(str(p) for p in paths)
    lists = [e for e in entries if e.name.lower() in LABEL_LISTS]
    if not lists:
        raise DataError(f"art500k: no label list (label_list.csv/.tsv/.txt) found under {where}")
    heads = [e for e in entries if e.name.lower() == HEAD_INFO]
    if not heads:
        raise DataError(f"art500k: no {HEAD_INFO} found under {where}")
    columns = parse_head_info(heads[0])
    rows = [row for entry in lists for row in parse_label_list(entry, columns, rejected)]
    files = [e for e in entries if is_image_name(e.name)]
    return _match(rows, files, rejected), rejected


def parse_head_info(entry: Entry) -> dict[str, int]:
    """Column positions by normalised name (lower case, letters only) from head_info.csv."""
    text = _text(entry).strip()
    try:
        names = ast.literal_eval(text) if text.startswith("[") else next(csv.reader([text]))
        names = [str(n).strip().strip("[]'\" ") for n in names]
    except (ValueError, SyntaxError, StopIteration):
        raise DataError(f"art500k: cannot parse column names in {entry.source}") from None
    columns = {}
    for i, name in enumerate(names):
        columns.setdefault(_norm(name), i)
    if "authorname" not in columns:
        raise DataError(f"art500k: {entry.source} has no author_name column")
    columns.setdefault("path", len(names) - 1)
    return columns


def parse_label_list(entry: Entry, columns: dict[str, int], rejected: list) -> list[dict]:
    """Rows of a label list as dicts with source, path, artist, date, movement."""
    lines = _text(entry).splitlines()
    sample = [ln for ln in lines if ln.strip()][:50]
    tabs, pipes = sum(ln.count("\t") for ln in sample), sum(ln.count("|") for ln in sample)
    if not tabs and not pipes:
        raise DataError(f"art500k: {entry.source} is neither '|'- nor tab-separated")
    sep = "\t" if tabs > pipes else "|"
    rows = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        values = [v.strip() for v in line.split(sep)]
        path = _image_path(values, columns["path"])
        if path is None:
            rejected.append((f"{entry.source}:{n}", "no image path"))
            continue

        def get(name: str, values=values) -> str:
            i = columns.get(name)
            return values[i] if i is not None and i < len(values) else ""

        extra = {name: next((get(h) for h in heads if get(h)), "") for name, heads in EXTRA.items()
                 if any(h in columns for h in heads)}
        rows.append({"path": path, "artist": get("authorname"), "year": parse_year(get("date")),
                     "movement": get("artmovement") or get("style"), "labels": extra})
    return rows


def _image_path(values: list[str], index: int) -> str | None:
    """The path column's value, or (swapped columns) whichever value looks like a path."""
    ordered = ([values[index]] if index < len(values) else []) + values[::-1]
    for value in ordered:
        if "/" in value.replace("\\", "/") and is_image_name(value):
            return img_key(value)
    return None


def img_key(path: str) -> str:
    """Lookup key of a path below ``img/`` (anything up to the first 'img' folder is dropped)."""
    parts = key(path).split("/")
    if "img" in parts:
        parts = parts[parts.index("img") + 1 :]
    return "/".join(p for p in parts if p)


def image_id(name: str) -> str:
    """The ``##id`` of a file name or path (the file's stem when there is none)."""
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if "##" in stem:
        return stem.rsplit("##", 1)[1] or stem
    return stem


def _match(rows: list[dict], files: list[Entry], rejected: list) -> list[Candidate]:
    """Pair label rows with files: exact path first, then by ##id; report the leftovers."""
    by_key: dict[str, Entry] = {}
    by_id: dict[str, list[Entry]] = defaultdict(list)
    for entry in files:
        by_key.setdefault(img_key(entry.rel), entry)
        if "##" in entry.name:  # only real ##ids identify an artwork across folders
            by_id[image_id(entry.name)].append(entry)
    claimed: dict[str, dict] = {}  # entry.source -> row
    pending, seen = [], set()
    for row in rows:
        if row["path"] in seen:
            continue  # the same path listed twice: one row is enough
        seen.add(row["path"])
        entry = by_key.get(row["path"])
        if entry is not None and entry.source not in claimed:
            claimed[entry.source] = row
            row["entry"] = entry
        else:
            pending.append(row)
    for row in pending:  # listed path absent: the file may sit under another top folder
        same_id = by_id.get(image_id(row["path"]), []) if "##" in row["path"] else []
        spare = [e for e in same_id if e.source not in claimed]
        if spare:
            claimed[spare[0].source] = row
            row["entry"] = spare[0]
        else:
            rejected.append((f"img/{row['path']}", "missing file"))
    ids = {image_id(row["entry"].name) for row in claimed.values() if "##" in row["entry"].name}
    for entry in files:
        if entry.source not in claimed:
            dup = "##" in entry.name and image_id(entry.name) in ids
            reason = "duplicate id" if dup else "not in label list"
            rejected.append((entry.source, reason))
    return [
        Candidate(
            source=row["entry"].source,
            image_id=image_id(row["entry"].name),
            artist=row["artist"],
            year=row["year"],
            movement=row["movement"],
            read=row["entry"].read,
            labels=row["labels"],
        )
        for row in claimed.values()
    ]


def _text(entry: Entry) -> str:
    """A metadata file's text (UTF-8, optional BOM)."""
    try:
        return entry.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"art500k: {entry.source} is not UTF-8 text") from None


def _norm(name: str) -> str:
    """Column name reduced to lower-case letters ('Art Movement' -> 'artmovement')."""
    return re.sub(r"[^a-z]", "", name.lower())
