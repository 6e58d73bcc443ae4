"""WikiArt as ArtGAN distributes it (a folder or .zip archives, merged).

* images in style folders: ``<Style>/<artist>_<title>-<year>.jpg``;
* ``artist_*.csv``: rows ``Style/file.jpg,,idx`` (a header line and a single comma
  are tolerated); ``artist_class.txt``: lines ``idx Name``;
* ``style_*``/``genre_*`` lists are not needed: the movement is the style folder.

Names from class files and style folders show '_' as ' ' ("Albrecht_Durer" ->
"Albrecht Durer", "Abstract_Expressionism" -> "Abstract Expressionism"). The year
is taken from a file name ending in ``-YYYY`` or ``_YYYY`` (1000..2100), else
unknown. Image files that no artist list names are rejected as "no artist". The
image id is the file name without extension.
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


def collect(paths: list[Path], stack: ExitStack) -> tuple[list[Candidate], list]:
    """Candidates and early rejections for WikiArt sources."""
    entries, rejected = open_sources(paths, stack, "wikiart")
    where = ", ".join(str(p) for p in paths)
    lists = [e for e in entries if re.fullmatch(r"artist_.*\.csv", e.name.lower())]
    if not lists:
        raise DataError(f"wikiart: no artist_*.csv list found under {where}")
    class_files = [e for e in entries if e.name.lower() == "artist_class.txt"]
    if not class_files:
        raise DataError(f"wikiart: no artist_class.txt found under {where}")
    classes = parse_classes(class_files[0])
    listed: dict[str, str] = {}  # "Style/file.jpg" -> class index
    for entry in lists:
        for path, idx in parse_artist_list(entry):
            listed.setdefault(style_key(path), idx)
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
            rejected.append((entry.source, "no artist"))
            continue
        parts = k.split("/")
        stem = entry.name.rsplit(".", 1)[0]
        candidates.append(
            Candidate(
                source=entry.source,
                image_id=stem,
                artist=classes.get(listed[k], ""),
                year=year_from_name(stem),
                movement=parts[0].replace("_", " ") if len(parts) == 2 else "",
                read=entry.read,
            )
        )
    rejected.extend((k, "missing file") for k in listed if k not in files)
    return candidates, rejected


def style_key(path: str) -> str:
    """The last two path components ("Style/file.jpg"), the key artist lists use."""
    return "/".join(key(path).split("/")[-2:])


def parse_artist_list(entry: Entry) -> list[tuple[str, str]]:
    """(path, class index) pairs of an artist_*.csv; header or malformed lines are skipped."""
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
