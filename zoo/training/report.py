"""Printing a split's metrics (`zoo.training.evaluation.compute_metrics`) as a table."""

import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

# (key ending, label, format): the first ending a key has names its row (longest first)
_KINDS = (("_top1", "top-1", "{:.3f}"), ("_top5", "top-5", "{:.3f}"), ("_mae", "MAE", "{:.1f}"),
          ("_ece_raw", "ECE before temperature", "{:.3f}"), ("_ece", "ECE", "{:.3f}"),
          ("_temperature", "temperature", "{:.3f}"), ("_interval_coverage", "interval coverage", "{:.3f}"),
          ("_interval_width", "interval width", "{:.1f}"), ("_set_size", "set size", "{:.2f}"),
          ("_coverage", "set coverage", "{:.3f}"), ("_auroc", "AUROC", "{:.3f}"), ("_fpr95", "FPR at 95% TPR", "{:.3f}"))
_UNITS = {"year": " (years)"}  # regression tasks whose unit the table names
_IN_UNITS = ("MAE", "interval width")


def _rows(metrics: dict):
    """(label, value) of every headline metric, in the metrics' (= the label space's) order."""
    for key, value in metrics.items():
        ending, kind, fmt = next((k for k in _KINDS if key.endswith(k[0])), (None, None, None))
        if ending and isinstance(value, int | float) and not key.startswith("val_"):
            task = key.removesuffix(ending)
            yield f"{task} {kind}{_UNITS.get(task, '') if kind in _IN_UNITS else ''}", fmt.format(value)
    if metrics.get("n_images") is not None:
        yield "images", str(metrics["n_images"])
    if metrics.get("protocol"):  # the split protocol (data_tools.protocol): "artgan-artist", "stable"
        yield "split protocol", str(metrics["protocol"])


def shown_path(path) -> str:
    """`path` as a user reads it: relative to the working directory when inside it, else as given."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path.cwd())) or "."
    except ValueError:
        return os.fspath(path)


def print_metrics(metrics: dict, title: str, source=None, console: Console | None = None) -> None:
    """A rich table of the headline metrics (top-1/top-5, ECE, set coverage and size per
    classification task, MAE and interval per regression task, unknown-artist AUROC/FPR),
    then up to five weakest artists (with their set coverage): those below the best artist's
    accuracy (none when all are equal, e.g. all 1.000). `source`, the run folder or model
    file, follows on its own unwrapped line (`shown_path`): in the title, a path would wrap
    in its middle at the table's width."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for label, value in _rows(metrics):
        table.add_row(label, value)
    per_artist = metrics.get("per_artist_accuracy", {})
    top = max(per_artist.values(), default=0.0)
    weakest = sorted(((n, a) for n, a in per_artist.items() if a < top), key=lambda kv: kv[1])[:5]
    coverage = metrics.get("per_artist_coverage", {})
    for name, acc in weakest:
        table.add_row(f"  weakest: {name}", f"{acc:.3f}" + (f" (set coverage {coverage[name]:.2f})"
                                                           if name in coverage else ""))
    console = console or Console()
    console.print(table)
    if source is not None:
        kind = "run folder" if Path(source).is_dir() else "model"
        console.print(f"{kind}: {shown_path(source)}", soft_wrap=True, highlight=False)
