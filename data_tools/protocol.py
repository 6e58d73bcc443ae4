"""protocol.json: which split protocol a dataset folder's ``split`` column follows.

    {"protocol": "stable", "split": [0.8, 0.1, 0.1], "seed": 0}
        the zoo's own leak-free split (`split.assign_splits`; "exact" for synth's quotas);
    {"protocol": "artgan-artist", "published": true, "val_from_train": 0.1, "seed": 0,
     "test_near_duplicates_in_train": 12, "task": "artist"}
        a source's published split kept: its train list is train plus a stable val part
        (`val_from_train` of it, `split.assign_published`), its test/val list is test; the
        count says how many test images share a near-duplicate group with a train image
        (the published split has these; nothing was removed). "task" names the task whose
        lists define the rows ("genre" for "artgan-genre"); when it is not "artist", rows
        may have an empty artist (`artist_optional`; the manifest allows it then).

A folder without the file (made before it existed) is "stable". `zoo train` copies the
record into config.json ("data": {"protocol": ...}) and metrics.json ("protocol").
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from data_tools.files import write_atomic

PROTOCOL = "protocol.json"
STABLE = "stable"
VAL_FROM_TRAIN = 0.1  # a published split's val part: this share of its train list


def stable(fractions, seed: int, *, exact: bool = False) -> dict:
    """The record of the zoo's own split."""
    return {"protocol": "exact" if exact else STABLE, "split": [float(f) for f in fractions], "seed": seed}


def published(name: str, val_from_train: float, seed: int, near_in_train: int | None,
              task: str = "artist") -> dict:
    """The record of a kept published split (module docstring)."""
    return {"protocol": name, "published": True, "val_from_train": val_from_train, "seed": seed,
            "test_near_duplicates_in_train": near_in_train, "task": task}


def artist_optional(record: dict) -> bool:
    """Whether a folder's rows may lack an artist: a published split of another task."""
    return bool(record.get("published")) and record.get("task", "artist") != "artist"


def column_of(task: str) -> str:
    """The manifest column of a published task (ArtGAN's "style" is the movement column)."""
    return "movement" if task == "style" else task


def write(directory: str | os.PathLike, record: dict) -> Path:
    """DIR/protocol.json, atomically (before manifest.csv, which marks the folder complete)."""
    return write_atomic(Path(directory) / PROTOCOL, json.dumps(record, indent=1) + "\n", fsync=True)


def read(directory: str | os.PathLike) -> dict:
    """DIR/protocol.json's record; {"protocol": "stable"} for a folder without one."""
    path = Path(directory) / PROTOCOL
    if not path.is_file():
        return {"protocol": STABLE}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from None
    if not isinstance(record, dict) or not isinstance(record.get("protocol"), str):
        raise ValueError(f"{path}: no \"protocol\" name")
    return record
