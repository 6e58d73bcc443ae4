"""Ingest a downloaded dataset (art500k, wikiart, folder) into the common format.

Each kind is a module with ``collect(paths, stack) -> (candidates, rejected)``;
`ingest` runs it and writes the result atomically with `build.write_dataset`.
"""

from __future__ import annotations

import importlib
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console

from data_tools.build import BuildOptions, BuildResult, write_dataset
from data_tools.manifest import DataError
from data_tools.outdir import check_out, staged

KINDS = ("art500k", "wikiart", "folder")


def ingest(
    kind: str,
    sources: list[str | Path],
    out: str | Path,
    opts: BuildOptions | None = None,
    overwrite: bool = False,
    console: Console | None = None,
) -> BuildResult:
    """Build the dataset folder `out` from `sources` of the given kind."""
    if kind not in KINDS:
        raise DataError(f"ingest: unknown source kind {kind!r} (choose from {', '.join(KINDS)})")
    out = Path(out)
    paths = [Path(p) for p in sources]
    if not paths:
        raise DataError(f"{kind}: no source given")
    for path in paths:
        if path.is_dir() and out.resolve().is_relative_to(path.resolve()):
            raise DataError(f"{kind}: --out {out} must not be inside the source folder {path}")
    check_out(out, overwrite)
    module = importlib.import_module(f"data_tools.ingest.{kind}")
    with ExitStack() as stack:
        candidates, rejected = module.collect(paths, stack)
        with staged(out, overwrite) as tmp:
            # a folder of one's own keeps every artist by default; the big sources their top 50
            opts = opts or BuildOptions(top_artists=0 if kind == "folder" else 50)
            return write_dataset(tmp, candidates, rejected, opts, console, kind)
