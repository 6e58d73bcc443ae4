"""A Hugging Face `datasets` image-classification dataset (`ingest hf NAME_OR_PATH`).

Rows stream from `hf_source.open_rows` (a hub name, the local hub cache, parquet shards or
a `save_to_disk` folder); each becomes a `Candidate` whose bytes are read when it is cleaned.

* columns -> tasks: `--columns task=column,...`; by default every task name in
  `DEFAULT_TASKS` that is also a column (huggan/wikiart: artist, genre, style). ``year``
  becomes the year (`years.parse_year`); ``artist`` and ``movement`` their manifest
  columns; any other task an extra label column;
* class names come from `ClassLabel` features (other columns: the value as text); names
  starting with "Unknown" ("Unknown Artist", "Unknown Genre") are missing labels unless
  `unknown_as_class` (a row without an artist is rejected as "no artist");
* artist slugs read as names (`display_name`: "vincent-van-gogh" -> "Vincent van Gogh"),
  "_" in other class names as " " ("Post_Impressionism" -> "Post Impressionism");
* the image is the column of type `Image` (else one named "image"); the image id is the
  row's source with '/' and ':' made '-' ("data-train-00000-of-00072.parquet-17").
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path

from data_tools.build import Candidate
from data_tools.ingest.hf_source import Rows, open_rows
from data_tools.ingest.years import parse_year
from data_tools.manifest import DataError
from data_tools.usage import UsageError

DEFAULT_TASKS = ("artist", "genre", "style", "movement", "medium", "year")
PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "del", "della", "du", "des", "la", "le", "y", "e", "ter"}
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")
_TASK = re.compile(r"[a-z][a-z0-9_]{0,39}")
RESERVED = ("image_id", "path", "split", "sha1", "source")  # = labels.NOT_LABELS


class Stream:
    """Candidates of a streamed source, made lazily as it is iterated; `total` rows expected
    (None: unknown)."""

    def __init__(self, rows: Rows, make, limit: int | None):
        self.total = rows.total if limit is None else min(limit, rows.total or limit)
        self._rows, self._make, self._limit = rows, make, limit

    def __iter__(self):
        for n, (source, row) in enumerate(self._rows.stream()):
            if self._limit is not None and n >= self._limit:
                return
            yield self._make(source, row)


def parse_columns(spec: str | None) -> dict[str, str] | None:
    """`--columns artist=artist,movement=style` -> {task: column}; None for no flag."""
    if spec is None:
        return None
    out = {}
    for part in spec.split(","):
        task, sep, column = (p.strip() for p in part.partition("="))
        if not sep or not column or not _TASK.fullmatch(task) or task in RESERVED:
            raise UsageError(f"--columns {spec!r}: each item is task=column with a lower-case task name "
                             f"(not {', '.join(RESERVED)}), e.g. artist=artist,movement=style")
        out[task] = column
    if "artist" not in out:
        raise UsageError(f"--columns {spec!r}: needs artist=COLUMN (the artist is every dataset's primary task)")
    return out


def collect(paths: list[Path], stack: ExitStack, *, columns=None, unknown_as_class: bool = False,
            limit: int | None = None, split: str = "train"):
    """A lazy `Stream` of candidates and the (empty) early rejections of one hf source."""
    del stack  # nothing to close: the row stream owns its files
    if len(paths) != 1:
        raise DataError("hf: give exactly one dataset (a hub name, a parquet folder or a save_to_disk folder)")
    rows = open_rows(str(paths[0]), split)
    mapping = columns or {t: t for t in DEFAULT_TASKS if t in rows.features}
    missing = [c for c in mapping.values() if c not in rows.features]
    if missing or "artist" not in mapping:
        have = ", ".join(rows.features) or "none"
        what = f"no column {missing[0]!r}" if missing else "no artist column"
        raise DataError(f"hf: {paths[0]} has {what} (its columns: {have}); map them with --columns artist=...")
    image = _image_column(rows.features, paths[0])
    names = {task: _class_names(rows.features[col], task, unknown_as_class) for task, col in mapping.items()}

    def make(source: str, row: dict) -> Candidate:
        labels = {task: _value(row.get(col), names[task], unknown_as_class) for task, col in mapping.items()}
        data = row.get(image) or {}
        encoded = (data.get("bytes") if isinstance(data, dict) else data) or b""  # "empty file" if none
        return Candidate(
            source=source, image_id=re.sub(r"[/:\\]+", "-", source), artist=labels.pop("artist"),
            year=parse_year(labels.pop("year", "")), movement=labels.pop("movement", ""),
            read=lambda: encoded, labels=labels)

    return Stream(rows, make, limit), []


def _image_column(features: dict, where) -> str:
    kinds = [n for n, f in features.items() if type(f).__name__ == "Image"]
    if kinds:
        return kinds[0]
    if "image" in features:
        return "image"
    raise DataError(f"hf: {where} has no Image column (its columns: {', '.join(features)})")


def _class_names(feature, task: str, keep_unknown: bool) -> list[str] | None:
    """Display names of a ClassLabel feature (or a list of them) by class id ("" for unknown
    ones), else None."""
    names = getattr(getattr(feature, "feature", feature), "names", None)
    if names is None:
        return None
    return [_display(str(n), task, keep_unknown) for n in names]


def _value(value, names: list[str] | None, keep_unknown: bool) -> str:
    """One cell as label text: a ClassLabel id through `names`, else the value itself; of a
    list cell (asahi417/wikiart-all's `styles`, `genres`) its first item."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None or value == "":
        return ""
    if names is not None:
        return names[value] if isinstance(value, int) and 0 <= value < len(names) else ""
    return _display(str(value), "", keep_unknown)


def _display(name: str, task: str, keep_unknown: bool) -> str:
    name = name.strip()
    if not keep_unknown and name.lower().startswith("unknown"):
        return ""
    if task == "artist" and _SLUG.fullmatch(name):
        return display_name(name)
    return name.replace("_", " ")


def display_name(slug: str) -> str:
    """An artist slug as a name: "vincent-van-gogh" -> "Vincent van Gogh" (particles such as
    van, de, da stay lower case inside a name)."""
    words = slug.split("-")
    return " ".join(w if i and w in PARTICLES else w.capitalize() for i, w in enumerate(words))
