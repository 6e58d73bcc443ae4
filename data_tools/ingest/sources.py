"""List and read the files of input folders and .zip archives, uniformly.

Each file becomes an `Entry` with `rel` (its '/'-separated path inside the source)
and `source` (what manifest.csv / rejected.csv call it): ``<folder name>/<rel>``
for a folder, ``<archive name>:<member>`` for a zip member. Archive members are
read straight from the archive; nothing is ever extracted to disk, and members
with an absolute path or '..' are reported as unsafe instead of listed.
"""

from __future__ import annotations

import os
import unicodedata
import zipfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from data_tools.images import MAX_FILE_BYTES, Rejected
from data_tools.manifest import DataError


@dataclass(frozen=True)
class Entry:
    """One file of a source."""

    source: str
    rel: str
    size: int
    opener: Callable[[], bytes]

    @property
    def name(self) -> str:
        """File name (last path component)."""
        return self.rel.rsplit("/", 1)[-1]

    def read(self) -> bytes:
        """File bytes; oversized files are rejected without reading them."""
        if self.size > MAX_FILE_BYTES:
            raise Rejected("file too large")
        return self.opener()


def key(path: str) -> str:
    """Lookup key for a path: NFC-normalised, '/'-separated, no leading './'."""
    text = unicodedata.normalize("NFC", path.strip().replace("\\", "/"))
    while text.startswith("./"):
        text = text[2:]
    return text


def open_sources(paths: list[Path], stack: ExitStack, kind: str) -> tuple[list[Entry], list]:
    """All files of the given folders/archives, plus (source, reason) for unsafe members."""
    entries: list[Entry] = []
    unsafe: list[tuple[str, str]] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            entries.extend(_dir_entries(path.resolve()))
        elif path.is_file() and zipfile.is_zipfile(path):
            archive = stack.enter_context(zipfile.ZipFile(path))
            _zip_entries(path, archive, entries, unsafe)
        elif path.exists():
            raise DataError(f"{kind}: {path} is neither a folder nor a .zip archive")
        else:
            raise DataError(f"{kind}: {path} does not exist")
    return entries, unsafe


def _dir_entries(root: Path) -> list[Entry]:
    """Files below a folder, in sorted order (symlinked folders are not followed)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            try:
                size = full.stat().st_size
            except OSError:
                continue
            out.append(Entry(f"{root.name}/{rel}", rel, size, full.read_bytes))
    return out


def _zip_entries(path: Path, archive: zipfile.ZipFile, entries: list, unsafe: list) -> None:
    """Members of an archive; unsafe names go to `unsafe`."""
    for info in sorted(archive.infolist(), key=lambda i: i.filename):
        if info.is_dir():
            continue
        name = info.filename
        source = f"{path.name}:{name}"
        if not is_safe_member(name):
            unsafe.append((source, "unsafe archive path"))
            continue
        entries.append(Entry(source, name, info.file_size, _member_reader(archive, info)))


def _member_reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    """A function reading one archive member into memory."""
    return lambda: archive.read(info)


def is_safe_member(name: str) -> bool:
    """False for absolute member names, drive letters, or any '..' component."""
    norm = name.replace("\\", "/")
    parts = PurePosixPath(norm).parts
    return not (
        norm.startswith("/") or (len(norm) > 1 and norm[1] == ":") or ".." in parts or not parts
    )
