"""Ingest a downloaded dataset (art500k, wikiart, folder, hf) into the common format.

Each kind is a module with ``collect(paths, stack, **options) -> (candidates, rejected)``
(candidates: a list, or a streamed iterable with a `total`); `ingest` runs it and writes
the result atomically with `build.write_dataset`. A module whose candidates carry a
published split names it `PROTOCOL` ("artgan-artist"), or, where it offers several
(`PROTOCOLS`: name -> the task whose lists define the rows), takes the chosen one as the
``protocol`` option: with `split="auto"` (default) or "published" it is kept (`build`
module docstring), with "stable" the zoo's own split is made.
"""

from __future__ import annotations

import importlib
import sys
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from data_tools.build import BuildOptions, BuildResult, write_dataset
from data_tools.manifest import DataError
from data_tools.outdir import check_out, staged

KINDS = ("art500k", "wikiart", "folder", "hf")
SPLIT_MODES = ("auto", "published", "stable")


def ingest(
    kind: str,
    sources: list[str | Path],
    out: str | Path,
    opts: BuildOptions | None = None,
    overwrite: bool = False,
    console: Console | None = None,
    split: str = "auto",
    options: dict | None = None,
) -> BuildResult:
    """Build the dataset folder `out` from `sources` of the given kind; `split` one of
    `SPLIT_MODES`, `options` the kind's own `collect` keywords (hf: columns, limit, ...)."""
    if kind not in KINDS:
        raise DataError(f"ingest: unknown source kind {kind!r} (choose from {', '.join(KINDS)})")
    out = Path(out)
    paths = [Path(p) for p in sources]
    if not paths:
        raise DataError(f"{kind}: no source given")
    if split not in SPLIT_MODES:
        raise DataError(f"ingest: split mode {split!r}: valid are {', '.join(SPLIT_MODES)}")
    for path in paths:
        if path.is_dir() and out.resolve().is_relative_to(path.resolve()):
            raise DataError(f"{kind}: --out {out} must not be inside the source folder {path}")
    check_out(out, overwrite)
    module = importlib.import_module(f"data_tools.ingest.{kind}")
    with ExitStack() as stack:
        candidates, rejected = module.collect(paths, stack, **(options or {}))
        # a folder of one's own keeps every artist by default; the big sources their top 50
        opts = opts or BuildOptions(top_artists=0 if kind == "folder" else 50)
        name = (options or {}).get("protocol") or getattr(module, "PROTOCOL", None)
        kept = _protocol(kind, name, candidates, split)
        opts = replace(opts, protocol=kept,
                       protocol_task=getattr(module, "PROTOCOLS", {}).get(kept, "artist") if kept else "artist")
        if opts.protocol:
            _notice_kept(opts, BuildOptions())
        with staged(out, overwrite) as tmp:
            return write_dataset(tmp, candidates, rejected, opts, console, kind,
                                 total=getattr(candidates, "total", None))


def _protocol(kind: str, name: str | None, candidates, split: str) -> str | None:
    """The published protocol `name` to keep, None for the zoo's stable split."""
    has = bool(name) and isinstance(candidates, list) and any(c.split for c in candidates)
    if split == "published" and not has:
        raise DataError(f"{kind}: the source defines no published split (use --split stable)")
    return name if has and split != "stable" else None


def _notice_kept(opts: BuildOptions, defaults: BuildOptions) -> None:
    """Say when artist selection flags do not apply (a published split keeps every image)."""
    if (opts.top_artists, opts.min_per_artist) != (defaults.top_artists, defaults.min_per_artist):
        print(f"notice: the published split {opts.protocol} is kept as it is; --top-artists and "
              "--min-per-artist do not apply (--split stable selects artists)", file=sys.stderr)
