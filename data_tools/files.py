"""The one crash-safe write: to a temp file beside the target, then `os.replace`.

A reader sees the old file or the new one, never half of one; a crash leaves at
most a hidden `.NAME.tmp-PID` file. Every module that writes a file a later
process reads (manifests, run folders, leaderboards, indexes) goes through here.
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, fsync: bool = False, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temp path beside `path` with the same suffix (Keras and numpy check it; pass
    `suffix` for a compound one such as ".weights.h5"); on success it replaces `path`, on an
    exception it is removed and `path` is untouched."""
    path = Path(path)
    suffix = "".join(path.suffixes[-1:]) if suffix is None else suffix
    tmp = path.with_name(f".{path.name.removesuffix(suffix)}.tmp-{os.getpid()}{suffix}")
    try:
        yield tmp
        if fsync and tmp.is_file():
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.is_file():
            tmp.unlink()


def write_atomic(path: str | os.PathLike, data: str | bytes, *, fsync: bool = False) -> Path:
    """Write `data` (text as UTF-8, or bytes) to `path` atomically; returns `path`."""
    with atomic_path(path, fsync=fsync) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")
    return Path(path)
