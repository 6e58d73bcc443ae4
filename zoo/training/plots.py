"""Pictures of a run: training curves and confusion matrices (matplotlib, no display)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# (title, history column) pairs; validation columns are the same with "val_".
_PANELS = [("total loss", "loss"), ("artist top-1", "artist_top1"), ("year MAE (years)", "year_mae")]


def plot_curves(history: list[dict], path) -> None:
    """Loss, artist accuracy and year error per epoch, train vs validation."""
    epochs = [row["epoch"] for row in history]
    panels = [(t, c) for t, c in _PANELS if any(c in row for row in history)]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False)
    for ax, (title, column) in zip(axes[0], panels, strict=True):
        for prefix, style in (("", "-o"), ("val_", "--s")):
            values = [row.get(prefix + column, np.nan) for row in history]
            ax.plot(epochs, values, style, ms=3, label="validation" if prefix else "train")
        ax.set(title=title, xlabel="epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
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
