"""WikiArt as ArtGAN distributes it (a folder or .zip archives, merged).

* images in style folders: ``<Style>/<artist>_<title>-<year>.jpg``;
* ``artist_*.csv``: rows ``Style/file.jpg,,idx`` (a header line and a single comma
  are tolerated); ``artist_class.txt``: lines ``idx Name``;
* ``genre_*.csv`` + ``genre_class.txt`` give the ``genre`` column, ``style_*.csv`` +
  ``style_class.txt`` the ``movement`` column (ArtGAN's "style"); each task's lists label
  only the images they list (the others are unlabelled for it). Without style lists the
  movement is the style folder.

The published split of one task (`PROTOCOLS`, ``--protocol``; default ``artgan-artist``):
that task's ``<task>_train.csv`` is train, its ``<task>_val.csv`` test (`data_tools.build`
keeps it unless ``--split stable``), and its lists define the rows: ArtGAN's three tasks
list different images (artist 13,346 / 5,706, genre 45,503 / 19,492, style 57,025 /
24,421). The other tasks' lists only label the rows they name; a row they do not name is
unlabelled for them. Under ``artgan-genre`` or ``artgan-style`` a row no artist list names
keeps an empty artist (masked like a missing year; protocol.json's "task" allows it).

Names from class files and style folders show '_' as ' ' ("Albrecht_Durer" ->
"Albrecht Durer", "Abstract_Expressionism" -> "Abstract Expressionism"). The year
is taken from a file name ending in ``-YYYY`` or ``_YYYY`` (1000..2100), else
unknown. Image files that the protocol task's lists do not name are rejected as "no
artist" ("no genre", "no style"). The image id is the file name without extension.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path

from data_tools.build import Candidate
from data_tools.images import is_image_name
from data_tools.ingest.sources import Entry, key, open_sources
from data_tools.manifest import DataError

_YEAR_SUFFIX = re.compile(r"[-_](\d{4})$")
# --protocol -> the task whose lists define the rows and their published split
PROTOCOLS = {"artgan-artist": "artist", "artgan-genre": "genre", "artgan-style": "style"}
PROTOCOL = "artgan-artist"  # the default
PUBLISHED = {"train": "train", "val": "test"}  # <task>_<part>.csv -> split kept


def collect(paths: list[Path], stack: ExitStack, protocol: str = PROTOCOL) -> tuple[list[Candidate], list]:
    """Candidates (with the published split of `protocol`'s task) and early rejections."""
    if protocol not in PROTOCOLS:
        raise DataError(f"wikiart: unknown protocol {protocol!r} (choose from {', '.join(PROTOCOLS)})")
    task = PROTOCOLS[protocol]
    entries, rejected = open_sources(paths, stack, "wikiart")
    where = ", ".join(str(p) for p in paths)
    if not _lists(entries, task):
        raise DataError(f"wikiart: no {task}_*.csv list found under {where}")
    if not _class_file(entries, task):
        raise DataError(f"wikiart: no {task}_class.txt found under {where}")
    labels = {t: task_labels(entries, t) for t in PROTOCOLS.values() if _lists(entries, t) and _class_file(entries, t)}
    listed, splits = labels[task]
    artists, genres = labels.get("artist", ({}, {}))[0], labels.get("genre", ({}, {}))[0]
    styles = labels["style"][0] if "style" in labels else None
    files = {}
    for entry in entries:
        if not is_image_name(entry.name):
            continue
        if style_key(entry.rel) in files:  # the same Style/file in two sources
            rejected.append((entry.source, "duplicate id"))
        else:
            files[style_key(entry.rel)] = entry
    candidates = []
    for k, entry in files.items():
        if k not in listed:
            rejected.append((entry.source, f"no {task}"))
            continue
        parts = k.split("/")
        folder = parts[0].replace("_", " ") if len(parts) == 2 else ""
        stem = entry.name.rsplit(".", 1)[0]
        candidates.append(Candidate(
            source=entry.source, image_id=stem, artist=artists.get(k, ""), year=year_from_name(stem),
            movement=folder if styles is None else styles.get(k, ""), read=entry.read,
            labels={"genre": genres.get(k, "")} if genres else {}, split=splits.get(k, "")))
    rejected.extend((k, "missing file") for k in listed if k not in files)
    if len(set(splits.values())) < 2 or len(splits) < len(listed):
        for cand in candidates:  # no train + val pair: no published split to keep
            cand.split = ""
    return candidates, rejected


def task_labels(entries: list[Entry], task: str) -> tuple[dict[str, str], dict[str, str]]:
    """("Style/file.jpg" -> class name, "Style/file.jpg" -> published split) from a task's
    ``<task>_*.csv`` lists and ``<task>_class.txt`` (the first list naming a file wins)."""
    classes = parse_classes(_class_file(entries, task)[0])
    names, splits = {}, {}
    for entry in sorted(_lists(entries, task), key=lambda e: e.source):
        part = PUBLISHED.get(entry.name.lower()[len(task) + 1 : -len(".csv")])
        for path, idx in parse_artist_list(entry):
            k = style_key(path)
            if k not in names:
                names[k] = classes.get(idx, "")
                if part:
                    splits[k] = part
    return names, splits


def _lists(entries: list[Entry], task: str) -> list[Entry]:
    return [e for e in entries if re.fullmatch(rf"{task}_.*\.csv", e.name.lower())]


def _class_file(entries: list[Entry], task: str) -> list[Entry]:
    return [e for e in entries if e.name.lower() == f"{task}_class.txt"]


def style_key(path: str) -> str:
    """The last two path components ("Style/file.jpg"), the key artist lists use."""
    return "/".join(key(path).split("/")[-2:])


def parse_artist_list(entry: Entry) -> list[tuple[str, str]]:
    """(path, class index) pairs of an artist/genre/style_*.csv; header or malformed lines
    are skipped."""
    pairs = []
    for line in _text(entry).splitlines():
        if "," not in line:
            continue
        path, idx = line.rsplit(",", 1)
        path, idx = path.rstrip(",").strip(), idx.strip()
        if idx.isdigit() and is_image_name(path):
            pairs.append((path, idx))
    return pairs


def parse_classes(entry: Entry) -> dict[str, str]:
    """Class index -> display name from lines like ``0 Albrecht_Durer``."""
    classes = {}
    for line in _text(entry).splitlines():
        m = re.match(r"\s*(\d+)[\s,]+(\S.*?)\s*$", line)
        if m:
            classes[m.group(1)] = m.group(2).replace("_", " ")
    if not classes:
        raise DataError(f"wikiart: no 'index name' lines in {entry.source}")
    return classes


def year_from_name(stem: str) -> int | None:
    """Year at the end of a file stem ("claude-monet_water-lilies-1916" -> 1916)."""
    m = _YEAR_SUFFIX.search(stem)
    return int(m.group(1)) if m and 1000 <= int(m.group(1)) <= 2100 else None


def _text(entry: Entry) -> str:
    """A metadata file's text (UTF-8, optional BOM)."""
    try:
        return entry.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"wikiart: {entry.source} is not UTF-8 text") from None
