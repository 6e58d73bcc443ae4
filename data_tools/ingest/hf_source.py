"""Where a Hugging Face dataset's rows come from: the stream of `(source, row)` pairs.

`open_rows(source, split)` accepts, in this order:

* a folder written by `save_to_disk` (``state.json`` / ``dataset_dict.json``): memory-mapped
  by `datasets.load_from_disk`, iterated with `to_iterable_dataset`;
* a folder of parquet shards (any depth) or one ``.parquet`` file, as the hub stores them
  (``data/train-000NN-of-00072.parquet``): read a row group at a time with pyarrow, the
  `datasets` features from the schema's metadata (`Features.from_arrow_schema`);
* a hub name (``huggan/wikiart``): first the local hub cache (`snapshot_download` with
  ``local_files_only``, e.g. after ``hf download huggan/wikiart --repo-type dataset``), then,
  unless ``HF_HUB_OFFLINE`` is set, streamed from the hub (`load_dataset(..., streaming=True)`).

Nothing is ever loaded whole: images stay encoded bytes (`decode(False)`), one row group
or one row at a time. A row's `source` (rejected.csv, manifest.csv) is
``<shard file>:<row>`` or ``<name>:<split>:<row>``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from data_tools.manifest import DataError

BATCH_ROWS = 16  # parquet rows read at once (16 images of 1-5 MB)


@dataclass
class Rows:
    """A dataset's features, its row count (None: unknown) and a function yielding
    `(source, row dict)` with images as ``{"bytes", "path"}``."""

    features: dict
    total: int | None
    stream: object  # () -> Iterator[tuple[str, dict]]


def open_rows(source: str, split: str) -> Rows:
    """The rows of `source` (module docstring); DataError (one line) when it cannot be read."""
    path = Path(source)
    if path.is_dir() and ({"state.json", "dataset_dict.json"} & {p.name for p in path.iterdir()}):
        return _disk_rows(path, split)
    if path.is_dir() or (path.is_file() and path.suffix == ".parquet"):
        return _parquet_rows(_shards(path, split, source), root=path if path.is_dir() else path.parent)
    if path.exists():
        raise DataError(f"hf: {source} is neither a parquet file, a folder of parquet shards "
                        "nor a save_to_disk folder")
    if source.count("/") != 1 or source.startswith(("/", ".")):
        raise DataError(f"hf: {source} does not exist (a hub name looks like owner/name)")
    cached = _hub_cache(source)
    if cached is not None:
        return _parquet_rows(_shards(cached, split, source), root=cached)
    return _hub_rows(source, split)


def _shards(folder: Path, split: str, source: str) -> list[Path]:
    """The parquet files of `split` below `folder` (``<split>-*.parquet`` or a ``<split>/``
    folder; all of them when no file is named by split), sorted."""
    files = [folder] if folder.is_file() else sorted(folder.rglob("*.parquet"))
    named = [f for f in files if f.name.startswith(f"{split}-") or f.parent.name == split]
    if not files:
        raise DataError(f"hf: no .parquet files under {source}")
    return named or files


def _parquet_rows(files: list[Path], root: Path) -> Rows:
    import pyarrow.parquet as pq
    from datasets import Features

    try:
        metas = [pq.ParquetFile(f) for f in files]
    except (OSError, ValueError) as exc:
        raise DataError(f"hf: cannot read parquet ({exc})".splitlines()[0]) from None
    features = Features.from_arrow_schema(metas[0].schema_arrow)

    def stream() -> Iterator[tuple[str, dict]]:
        for file, meta in zip(files, metas, strict=True):
            name = file.relative_to(root).as_posix() if file != root else file.name
            n = 0
            for batch in meta.iter_batches(batch_size=BATCH_ROWS):
                for row in batch.to_pylist():
                    yield f"{name}:{n}", row
                    n += 1

    return Rows(dict(features), sum(m.metadata.num_rows for m in metas), stream)


def _disk_rows(folder: Path, split: str) -> Rows:
    import datasets

    try:
        ds = datasets.load_from_disk(str(folder))
    except (OSError, ValueError, FileNotFoundError) as exc:
        raise DataError(f"hf: cannot load {folder} ({exc})".splitlines()[0]) from None
    if isinstance(ds, datasets.DatasetDict):
        if split not in ds:
            raise DataError(f"hf: {folder} has no split {split!r} (it has {', '.join(ds)}); pass --hf-split")
        ds = ds[split]
    return _iterable_rows(ds.to_iterable_dataset().decode(False), len(ds), f"{folder.name}:{split}")


def _hub_cache(name: str) -> Path | None:
    """The snapshot folder of a dataset in the local hub cache, None when it is not there."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(name, repo_type="dataset", local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        return None


def _hub_rows(name: str, split: str) -> Rows:
    """Stream a hub dataset over the network; one line when offline or unreachable."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or os.environ.get("HF_DATASETS_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE"):
        raise DataError(f"hf: {name} is not in the local hub cache and HF_HUB_OFFLINE is set; "
                        f"download it first (hf download {name} --repo-type dataset) or go online")
    import datasets
    from huggingface_hub.utils import logging as hub_logging

    hub_logging.set_verbosity_error()  # its retry warnings: the one error line below says it
    datasets.logging.set_verbosity_error()
    try:
        ds = datasets.load_dataset(name, split=split, streaming=True)
    except Exception as exc:  # network, auth, unknown name: datasets raises many kinds
        raise DataError(f"hf: cannot open {name} from the hub ({type(exc).__name__}: {exc})".splitlines()[0]) from None
    info = (ds.info.splits or {}).get(split) if ds.info else None
    return _iterable_rows(ds.decode(False), getattr(info, "num_examples", None), f"{name}:{split}")


def _iterable_rows(ds, total: int | None, prefix: str) -> Rows:
    def stream() -> Iterator[tuple[str, dict]]:
        for n, row in enumerate(ds):
            yield f"{prefix}:{n}", row

    return Rows(dict(ds.features or {}), total, stream)
