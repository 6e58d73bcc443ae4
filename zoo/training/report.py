"""Reading a saved model's label space and printing metrics as a table."""

from rich.console import Console
from rich.table import Table

_ROWS = [("artist top-1", "artist_top1", "{:.3f}"), ("artist top-5", "artist_top5", "{:.3f}"),
         ("movement top-1", "movement_top1", "{:.3f}"), ("year MAE (years)", "year_mae", "{:.1f}"),
         ("images", "n_images", "{}")]


def print_metrics(metrics: dict, title: str) -> None:
    """A rich table of the headline metrics, then up to five weakest artists: those below
    the best artist's accuracy (none when all are equal, e.g. all 1.000)."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for label, key, fmt in _ROWS:
        if metrics.get(key) is not None:
            table.add_row(label, fmt.format(metrics[key]))
    per_artist = metrics.get("per_artist_accuracy", {})
    top = max(per_artist.values(), default=0.0)
    weakest = sorted(((n, a) for n, a in per_artist.items() if a < top), key=lambda kv: kv[1])[:5]
    for name, acc in weakest:
        table.add_row(f"  weakest: {name}", f"{acc:.3f}")
    Console().print(table)


def labels_from_model(model):
    """The `LabelSpace` stored in a zoo model's heads (class names, year scaling)."""
    from data_tools.pipeline import LabelSpace

    heads = {name: model.get_layer(name) for name in model.output_names}
    year = heads.get("year")
    return LabelSpace(
        artists=tuple(heads["artist"].class_names) if "artist" in heads else (),
        movements=tuple(heads["movement"].class_names) if "movement" in heads else (),
        year_mean=year.center if year else 1850.0,
        year_std=year.scale if year else 100.0,
        has_year=year is not None,
    )
