"""Build an output folder out of sight and swap it in only when it is complete.

Work happens in ``DIR.partial-<pid>`` next to DIR; on success it is renamed to
DIR (the old DIR, if replaced, goes to ``DIR.old-<pid>`` and is deleted). A
killed run leaves only the ``.partial-<pid>`` folder, which the next run removes.
"""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from data_tools.manifest import MANIFEST, DataError


def check_out(out: Path, overwrite: bool) -> None:
    """Refuse an output folder that holds a dataset (unless overwrite) or foreign files."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out} exists and is not a folder")
    if (out / MANIFEST).is_file():
        if not overwrite:
            raise DataError(f"{out} already holds a dataset; pass --overwrite to rebuild it")
    elif out.is_dir() and any(out.iterdir()):
        raise DataError(f"{out} is not empty and holds no {MANIFEST}; choose another --out")


def new_partial(out: Path) -> Path:
    """Create an empty ``out.partial-<pid>`` folder, removing stale ones of dead runs."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for suffix in (".partial-*", ".old-*"):
        for stale in out.parent.glob(glob.escape(out.name) + suffix):
            pid = stale.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _alive(int(pid)):
                remove_tree(stale)
    tmp = out.with_name(f"{out.name}.partial-{os.getpid()}")
    remove_tree(tmp)
    tmp.mkdir()
    return tmp


def publish(tmp: Path, out: Path, replace: bool) -> bool:
    """Rename the finished `tmp` to `out`; False (tmp discarded) if another run won the race.

    With `replace`, an existing `out` is moved aside first and deleted afterwards.
    """
    if not (tmp / MANIFEST).is_file():
        raise DataError(f"{tmp}: build finished without {MANIFEST}")
    if replace and out.exists():
        old = out.with_name(f"{out.name}.old-{os.getpid()}")
        os.rename(out, old)
        try:
            os.rename(tmp, out)
        except OSError:
            os.rename(old, out)
            raise
        remove_tree(old)
        return True
    try:
        os.rename(tmp, out)
    except OSError:
        if (out / MANIFEST).is_file():
            remove_tree(tmp)
            return False
        raise
    return True


@contextmanager
def staged(out: Path, overwrite: bool) -> Iterator[Path]:
    """Yield an empty work folder that becomes `out` when the block ends without error."""
    out = Path(out)
    check_out(out, overwrite)
    tmp = new_partial(out)
    try:
        yield tmp
        check_out(out, overwrite)
        publish(tmp, out, replace=True)
    finally:
        remove_tree(tmp)


def remove_tree(path: Path) -> None:
    """Delete a folder tree if it exists."""
    if os.path.lexists(path):
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether a process with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
