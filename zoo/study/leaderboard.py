"""The compare leaderboard: one row per model x backend (mean over its seeds, zoo.study.aggregate)
-> CSV, Markdown, plot and a rich table."""

import csv
from pathlib import Path

from rich.table import Table

from data_tools.files import atomic_path
from zoo.training.report import shown_path
from zoo.training.timing import PHASES

COLUMNS = ("model", "backend", "seeds", "params", "gflops", "train_img_s", "infer_img_s", "artist_top1",
           "artist_top1_std", "artist_top1_ci_low", "artist_top1_ci_high", "artist_top5", "movement_top1",
           "year_mae", "wall_s", "peak_rss_mb", "status")
_TEXT = ("model", "backend", "seeds", "status", "params")  # written as they are
# Decimal places per numeric column (params is an integer count).
_DIGITS = {"gflops": 3, "train_img_s": 1, "infer_img_s": 1, "artist_top1": 3, "artist_top1_std": 3,
           "artist_top1_ci_low": 3, "artist_top1_ci_high": 3, "artist_top5": 3,
           "movement_top1": 3, "year_mae": 1, "wall_s": 0, "peak_rss_mb": 0}
_HEADER = {"params": "params (M)", "gflops": "GFLOPs/img", "train_img_s": "train img/s",
           "infer_img_s": "infer img/s", "artist_top1": "artist top-1", "artist_top1_std": "std",
           "artist_top1_ci_low": "95% low", "artist_top1_ci_high": "95% high", "artist_top5": "artist top-5",
           "movement_top1": "movement top-1", "year_mae": "year MAE", "wall_s": "wall s",
           "peak_rss_mb": "peak RSS MB"}


def sort_rows(rows: list[dict]) -> list[dict]:
    """Rows by artist_top1, best first; cells without accuracy (failed) last."""
    return sorted(rows, key=lambda r: (r.get("artist_top1") is None, -(r.get("artist_top1") or 0.0)))


def _fmt(column: str, value) -> str:
    if value is None:
        return ""
    if column == "params":
        return f"{value / 1e6:.2f}"
    if column == "seeds":
        return str(value)
    if column in _DIGITS:
        return f"{value:.{_DIGITS[column]}f}"
    return str(value)


def write_csv(rows: list[dict], path: Path) -> None:
    """`path` with exactly `COLUMNS`; numbers rounded, missing values empty; atomic."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow("" if row.get(c) is None else
                            row[c] if c in _TEXT else
                            round(row[c], _DIGITS[c]) for c in COLUMNS)


def markdown_table(rows: list[dict]) -> str:
    """A GitHub Markdown table of `rows` (params in millions)."""
    head = [_HEADER.get(c, c) for c in COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [_fmt(c, row.get(c)).replace("|", "/") for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def agreement_markdown(report: dict | None) -> str:
    """The numeric-agreement section of leaderboard.md."""
    if report is None:
        return "## Numeric agreement\n\nNot checked (--no-agreement).\n"
    head = (f"## Numeric agreement\n\n{report['model']} at {report['image_size']} px, seed "
            f"{report['seed']}, built and saved once on {report['built_on']}, then loaded on each "
            f"backend; one fixed batch of 8, recipe {report['recipe']} losses, dropout off, BatchNorm "
            "moving statistics set from that batch before saving (zoo/study/agreement.py).\n\n")
    if "error" in report:
        return head + f"**ERROR**: {report['error']}\n"
    lines = ["| backend | loss, first train step | loss, inference mode |", "|---|---|---|"]
    for backend, v in report["losses"].items():
        lines.append(f"| {backend} | {v['first_step_loss']:.8f} | {v['eval_loss']:.8f} |")
    diff = report["rel_diff"]
    verdict = "PASS" if report["passed"] else "FAIL"
    return head + "\n".join(lines) + (
        f"\n\nRelative difference across backends (max - min) / mean: first-step loss "
        f"{diff['first_step_loss']:.1e} against a tolerance of {report['tolerance']:.0e} -> **{verdict}**; "
        f"inference-mode loss {diff['eval_loss']:.1e} (reported, not judged: BatchNorm statistics from "
        "8 images magnify last-bit differences, see zoo/study/agreement.py).\n")


def time_split(row: dict) -> dict[str, float] | None:
    """Seconds of a cell per phase (`zoo.training.timing.PHASES`), with `startup`: the
    process's wall time outside them (interpreter, imports, argument checks, exit)."""
    phases = row.get("phases_s")
    if not phases:
        return None
    return {"startup": max(0.0, row["wall_s"] - row["total_s"]), **phases}


def time_markdown(rows: list[dict]) -> str:
    """The "where the time goes" section: seconds per phase per cell, then per backend."""
    split = [(r, time_split(r)) for r in rows]
    split = sorted([(r, t) for r, t in split if t], key=lambda rt: -rt[0]["wall_s"])
    if not split:
        return ""
    names = [n for n in ("startup", *PHASES) if any(t[n] >= 0.05 for _, t in split)]  # drop empty phases
    lines = ["## Where the time goes\n",
             "Seconds per phase of each cell's process (zoo/training/timing.py): `first_step` is the "
             "first training batch, i.e. tracing/compiling the train step; `validation` includes "
             "compiling the test step, `test` the predict step; `startup` is the process outside "
             "`train()` (interpreter, imports, exit).\n",
             "| cell | " + " | ".join(names) + " | wall s |", "|" + "---|" * (len(names) + 2)]
    for row, t in split:
        lines.append(f"| {row['model']} / {row['backend']} / s{row['seed']} | " + " | ".join(f"{t[n]:.1f}" for n in names)
                     + f" | {row['wall_s']:.0f} |")
    for backend in sorted({r["backend"] for r, _ in split}):
        mine = [(r, t) for r, t in split if r["backend"] == backend]
        lines.append(f"| **all {backend}** | " + " | ".join(f"{sum(t[n] for _, t in mine):.0f}" for n in names)
                     + f" | {sum(r['wall_s'] for r, _ in mine):.0f} |")
    return "\n".join(lines) + "\n"


def write_markdown(rows: list[dict], path: Path, *, intro: str, agreement: dict | None, runs: list[dict],
                   answers: str = "") -> None:
    """leaderboard.md: `rows` (model x backend), the `answers` sections (zoo.study.aggregate),
    the agreement report and where the time of each of `runs` (one per seed) went."""
    text = (f"# Leaderboard\n\n{intro}\n\n{answers}\n## All cells\n\n{markdown_table(rows)}\n\n"
            f"![artist top-1 against training throughput]({path.stem}.png)\n\n"
            f"{agreement_markdown(agreement)}\n{time_markdown(runs)}")
    path.write_text(text)


def plot(rows: list[dict], path: Path, *, title: str) -> None:
    """Artist top-1 (mean over seeds, with its 95 % interval as an error bar) against training
    img/s (log axis), one marker per backend, points labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5))
    markers = dict(zip(sorted({r["backend"] for r in rows}), "os^Dv", strict=False))
    for backend, marker in markers.items():
        points = [r for r in rows if r["backend"] == backend and r.get("train_img_s")
                  and r.get("artist_top1") is not None]
        low = [r["artist_top1"] - (r.get("artist_top1_ci_low") if r.get("artist_top1_ci_low") is not None
                                   else r["artist_top1"]) for r in points]
        high = [(r.get("artist_top1_ci_high") if r.get("artist_top1_ci_high") is not None else r["artist_top1"])
                - r["artist_top1"] for r in points]
        ax.errorbar([r["train_img_s"] for r in points], [r["artist_top1"] for r in points], yerr=[low, high],
                    fmt=marker, markersize=7, capsize=3, label=backend)
        for r in points:
            ax.annotate(r["model"], (r["train_img_s"], r["artist_top1"]), fontsize=7,
                        xytext=(4, 3), textcoords="offset points")
    if any(r.get("train_img_s") and r.get("artist_top1") is not None for r in rows):
        ax.set_xscale("log")  # matplotlib refuses a log axis without positive data
    else:
        ax.text(0.5, 0.5, "no cell has both a throughput and an accuracy", ha="center",
                transform=ax.transAxes)
    ax.set_xlabel("training throughput (img/s, log scale)")
    ax.set_ylabel("artist top-1 (test split; mean, 95 % interval over seeds)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(title="backend")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def rich_table(rows: list[dict], title: str, source=None) -> Table:
    """The leaderboard as a rich table; `source` (the CSV) in the caption, relative to the
    working directory (in the title a path wraps in its middle)."""
    table = Table(title=title, caption=shown_path(source) if source is not None else None)
    for c in COLUMNS:
        table.add_column(_HEADER.get(c, c), justify="left" if c in ("model", "backend", "status") else "right")
    for row in rows:
        table.add_row(*(_fmt(c, row.get(c)) for c in COLUMNS))
    return table
