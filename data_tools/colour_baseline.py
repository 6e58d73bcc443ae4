"""How far colour alone names the artist: 8x8x8 RGB histograms, no learning (numpy).

`python -m data_tools.colour_baseline DIR [DIR...]` prints, per dataset folder, the test
split's artist top-1 of two classifiers fitted on the train split: nearest class mean and
5 nearest neighbours (L1 distance between normalised histograms; a tie in the vote goes to
the nearest of the tied). The calibration of `synth --difficulty hard` (README, "make compare").
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from data_tools.manifest import read_manifest

BINS = 8  # per channel: 8x8x8 = 512 bins


def histogram(path: Path) -> np.ndarray:
    """The image's normalised (sums to 1) 512-bin RGB histogram."""
    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3) // (256 // BINS)
    index = (pixels[:, 0] * BINS + pixels[:, 1]) * BINS + pixels[:, 2]
    return np.bincount(index, minlength=BINS**3) / len(index)


def nearest_mean(train_x, train_y, test_x) -> np.ndarray:
    """Label of the closest class-mean histogram (L1) for each test row."""
    classes = np.unique(train_y)
    means = np.stack([train_x[train_y == c].mean(0) for c in classes])
    return classes[np.abs(test_x[:, None] - means[None]).sum(-1).argmin(1)]


def knn(train_x, train_y, test_x, k: int = 5) -> np.ndarray:
    """Majority label of the k nearest training histograms (L1); ties to the nearest tied label."""
    order = np.abs(test_x[:, None] - train_x[None]).sum(-1).argsort(1)[:, :k]
    out = []
    for row in train_y[order]:
        labels, counts = np.unique(row, return_counts=True)
        tied = set(labels[counts == counts.max()])
        out.append(next(label for label in row if label in tied))  # row is sorted by distance
    return np.array(out)


def evaluate(folder: Path) -> dict:
    """{"nearest_mean", "knn5", "chance", "train", "test"} artist top-1 on the test split."""
    rows = read_manifest(folder)
    split = {s: [r for r in rows if r["split"] == s] for s in ("train", "test")}
    x = {s: np.stack([histogram(folder / r["path"]) for r in split[s]]) for s in split}
    y = {s: np.array([r["artist"] for r in split[s]]) for s in split}
    return {"nearest_mean": float((nearest_mean(x["train"], y["train"], x["test"]) == y["test"]).mean()),
            "knn5": float((knn(x["train"], y["train"], x["test"]) == y["test"]).mean()),
            "chance": 1 / len(set(y["train"])), "train": len(y["train"]), "test": len(y["test"])}


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        r = evaluate(Path(arg))
        print(f"{arg}: colour-histogram artist top-1 nearest class mean {r['nearest_mean']:.3f}, "
              f"5-NN {r['knn5']:.3f} (chance {r['chance']:.3f}; {r['train']} train, {r['test']} test)")
