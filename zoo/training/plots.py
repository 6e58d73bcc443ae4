"""Pictures of a run: training curves, confusion matrices and reliability diagrams (matplotlib, no display)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

# (title, head, metric) of each panel; the loss is the total over heads. A validation
# column is the training one with "val_".
_PANELS = [("total loss", None, "loss"), ("artist top-1", "artist", "top1"),
           ("year MAE (years)", "year", "mae")]


def history_column(head: str | None, metric: str, heads) -> str:
    """The history column of `head`'s `metric`: `artist_top1`, or plain `top1` when the model
    has that one head only (Keras names a single output's metrics without its name)."""
    return metric if head is None or list(heads) == [head] else f"{head}_{metric}"


def curves_figure(history: list[dict], heads):
    """The figure of `plot_curves` (a matplotlib Figure, one panel per column the history has)."""
    epochs = [row["epoch"] for row in history]
    panels = [(title, history_column(head, metric, heads)) for title, head, metric in _PANELS
              if head is None or head in heads]
    panels = [(t, c) for t, c in panels if any(c in row for row in history)]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False)
    for ax, (title, column) in zip(axes[0], panels, strict=True):
        for prefix, style in (("", "-o"), ("val_", "--s")):
            values = [row.get(prefix + column, np.nan) for row in history]
            ax.plot(epochs, values, style, ms=3, label="validation" if prefix else "train")
        ax.set(title=title, xlabel="epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_curves(history: list[dict], path, heads) -> None:
    """Loss, artist accuracy and year error per epoch (1-based, integer ticks), train vs
    validation, of a model with output `heads` (names), as a PNG at `path`."""
    fig = curves_figure(history, heads)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(matrix: np.ndarray, names, path, title="artist confusion (test split)",
                   task: str = "artist") -> None:
    """Row-normalised confusion matrix of classification head `task`, class names on both axes."""
    rows = matrix.sum(axis=1, keepdims=True)
    norm = np.divide(matrix, rows, out=np.zeros(matrix.shape, float), where=rows > 0)
    side = max(5.0, 0.32 * len(names) + 2.5)
    fig, ax = plt.subplots(figsize=(side + 1, side))
    image = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set(xlabel=f"predicted {task}", ylabel=f"true {task}", title=title)
    if len(names) <= 20:
        for (i, j), count in np.ndenumerate(matrix):
            if count:
                ax.text(j, i, count, ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, label=f"fraction of true {task}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_reliability(heads: dict, path, title: str = "reliability (test split)") -> None:
    """Reliability diagram, one panel per classification head: accuracy against confidence in
    15 equal-width bins, before (raw, temperature 1) and after the temperature. `heads`:
    {name: (probs (n, K) calibrated, labels (n,), temperature)}."""
    from zoo.calibration import temperature as temp

    heads = {name: h for name, h in heads.items() if len(h[1])}
    fig, axes = plt.subplots(1, max(1, len(heads)), figsize=(4.2 * max(1, len(heads)), 4.0), squeeze=False)
    centers = (np.arange(temp.ECE_BINS) + 0.5) / temp.ECE_BINS
    for ax, (name, (probs, labels, t)) in zip(axes[0], heads.items(), strict=False):
        raw = temp.softmax_at(temp.logits_of(probs, t), 1.0)
        for p, label, style in ((raw, "raw", "--s"), (probs, f"T = {t:.2f}", "-o")):
            _, acc, _ = temp.reliability_bins(p, labels)
            ax.plot(centers, acc, style, ms=3, label=f"{label} (ECE {temp.ece(p, labels):.3f})")
        ax.plot([0, 1], [0, 1], ":", color="grey", label="perfect")
        ax.set(title=f"{name}", xlabel="confidence", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
