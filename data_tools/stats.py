"""Print what a dataset folder holds: its split protocol, per-split counts, movements, every
further label column, years; warn on imbalance."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from data_tools import protocol
from data_tools.labels import label_columns
from data_tools.manifest import SPLITS, manifest_hash, read_manifest, read_rejected
from data_tools.plural import plural

IMBALANCE_RATIO = 3.0
BAR_WIDTH = 40


def dataset_warnings(rows: list[dict]) -> list[str]:
    """Imbalance (largest/smallest artist above IMBALANCE_RATIO) and artists missing a split
    (rows without an artist count for neither)."""
    counts = Counter(r["artist"] for r in rows if r["artist"])
    out = []
    if not counts:
        return out
    big, small = max(counts, key=counts.get), min(counts, key=counts.get)
    if counts[big] > IMBALANCE_RATIO * counts[small]:
        ratio = counts[big] / counts[small]
        out.append(
            f"imbalance: {big!r} has {plural(counts[big], 'image')}, {small!r} only {counts[small]} "
            f"({ratio:.1f}x)"
        )
    present = {(r["artist"], r["split"]) for r in rows}
    for artist in sorted(counts):
        missing = [s for s in SPLITS if (artist, s) not in present]
        if missing:
            out.append(f"artist {artist!r} has no images in {'/'.join(missing)}")
    return out


def print_stats(directory: str | Path, console: Console | None = None) -> list[str]:
    """Print the tables for DIR and return the warnings (also printed)."""
    console = console or Console()
    rows = read_manifest(directory)
    rejected = read_rejected(directory)
    no_artist = sum(not r["artist"] for r in rows)
    console.print(
        f"[bold]{directory}[/]: {plural(len(rows), 'image')}, "
        f"{plural(len({r['artist'] for r in rows} - {''}), 'artist')}, {len(rejected)} rejected; "
        f"manifest sha256 {manifest_hash(directory)}",  # in full, as config.json records it
        soft_wrap=True,
    )
    if no_artist:
        console.print(f"no artist: {plural(no_artist, 'image')} (listed by the protocol's task only; "
                      "masked for the artist head)", highlight=False)
    console.print(protocol_line(protocol.read(directory)), highlight=False)
    console.print(_artist_table(rows))
    console.print(_movement_table(rows))
    for name, kind in label_columns(rows).items():
        if name not in ("artist", "movement", "year"):
            console.print(_movement_table(rows, name) if kind == "class" else _value_line(rows, name))
    console.print(_year_table(rows))
    if rejected:
        console.print(_rejected_table(rejected))
    copies = [r for r in rejected if r["reason"] == "near duplicate"]
    if copies:
        groups = len({r.get("duplicate_of") for r in copies})
        console.print(
            f"near-duplicate groups: {groups}, one image kept of each, "
            f"{plural(len(copies), 'copy', 'copies')} rejected (rejected.csv: duplicate_of)"
        )
    warnings = dataset_warnings(rows)
    for line in warnings:
        console.print(f"[yellow]warning:[/] {line}", highlight=False)
    return warnings


def _artist_table(rows: list[dict]) -> Table:
    """Images per artist and split."""
    per = Counter((r["artist"], r["split"]) for r in rows)
    table = Table(title="Images per artist and split")
    table.add_column("artist", no_wrap=True)
    for name in (*SPLITS, "total"):
        table.add_column(name, justify="right")
    for artist in sorted({r["artist"] for r in rows}, key=lambda a: (not a, a)):
        n = [per[(artist, s)] for s in SPLITS]
        table.add_row(artist or "(no artist)", *map(str, n), str(sum(n)))
    totals = [sum(per[k] for k in per if k[1] == s) for s in SPLITS]
    table.add_row("all", *map(str, totals), str(len(rows)), style="bold")
    return table


def protocol_line(record: dict) -> str:
    """One line on the split protocol (protocol.json), with the published split's copies."""
    name = record["protocol"]
    if not record.get("published"):
        return f"split protocol: {name} (the zoo's own split: no image has a near duplicate in another split)"
    near = record.get("test_near_duplicates_in_train")
    copies = "" if near is None else (f"; {plural(near, 'test image')} {'has' if near == 1 else 'have'} "
                                      "a near duplicate in train (the published split has these too)")
    return (f"split protocol: {name} (published split kept: its test list is test, val is "
            f"{record.get('val_from_train', 0):g} of its train list){copies}")


def _value_line(rows: list[dict], name: str) -> str:
    """A numeric label column: how many rows carry it, and its range."""
    values = [float(r[name]) for r in rows if r.get(name) not in (None, "")]
    return f"{name}: {plural(len(values), 'image')} labelled, {min(values):g} to {max(values):g}"


def _movement_table(rows: list[dict], column: str = "movement") -> Table:
    """Images and artists per movement (or per value of another class column)."""
    table = Table(title=f"{column.capitalize()}s" if column != "movement" else "Movements")
    table.add_column(column, no_wrap=True)
    table.add_column("artists", justify="right")
    table.add_column("images", justify="right")
    for movement in sorted({r[column] for r in rows}):
        group = [r for r in rows if r[column] == movement]
        label = movement or "(unknown)"
        table.add_row(label, str(len({r["artist"] for r in group} - {""})), str(len(group)))
    return table


def _year_table(rows: list[dict]) -> Table:
    """A text histogram of years per decade."""
    decades = Counter(r["year"] // 10 * 10 for r in rows if r["year"] is not None)
    unknown = sum(r["year"] is None for r in rows)
    peak = max([*decades.values(), unknown, 1])
    table = Table(title="Years per decade")
    table.add_column("decade", no_wrap=True)
    table.add_column("images", justify="right")
    table.add_column("", no_wrap=True)
    for decade in sorted(decades):
        n = decades[decade]
        table.add_row(f"{decade}s", str(n), "█" * max(1, round(BAR_WIDTH * n / peak)))
    if unknown:
        table.add_row("unknown", str(unknown), "█" * max(1, round(BAR_WIDTH * unknown / peak)))
    return table


def _rejected_table(rejected: list[dict]) -> Table:
    """Rejected input files per reason (from rejected.csv)."""
    table = Table(title="Rejected input files")
    table.add_column("reason", no_wrap=True)
    table.add_column("files", justify="right")
    for reason, n in Counter(r["reason"] for r in rejected).most_common():
        table.add_row(reason, str(n))
    return table
