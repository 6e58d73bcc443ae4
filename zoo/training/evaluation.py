"""Test-split metrics computed from predictions (numpy; the same on every backend)."""

import time

import numpy as np


def collect_predictions(model, dataset):
    """Run `model` over a `(images, targets, weights)` dataset.

    Returns four things: three dicts of numpy arrays keyed by head (predictions,
    targets, weights, each concatenated over batches: `(n, classes)`, `(n, 1)`
    or `(n,)`), and inference images/s over full-size batches after the first
    (None when there are none).
    """
    preds, targets, weights = {}, {}, {}
    seconds, timed = 0.0, 0
    for i, (images, y, w) in enumerate(dataset.as_numpy_iterator()):
        start = time.perf_counter()
        out = model.predict_on_batch(images)
        if i == 0:
            first_len = len(images)
        elif len(images) == first_len:  # the first batch and a short last one compile
            seconds += time.perf_counter() - start
            timed += len(images)
        for store, batch in ((preds, out), (targets, y), (weights, w)):
            for key, value in batch.items():
                store.setdefault(key, []).append(np.asarray(value))
    join = lambda d: {k: np.concatenate(v) for k, v in d.items()}  # noqa: E731
    return join(preds), join(targets), join(weights), (timed / seconds if seconds else None)


def _accuracy(pred, true, mask, k=1):
    if not mask.any():
        return None
    topk = np.argsort(-pred[mask], axis=1)[:, :k]
    return float((topk == true[mask].argmax(1)[:, None]).any(axis=1).mean())


def compute_metrics(preds, targets, weights, artist_names) -> dict:
    """The report of one split.

    Keys: `artist_top1`, `artist_top5`, `movement_top1` (fractions 0-1, None when
    the split has no such labels), `year_mae` (years), `per_artist_accuracy`
    (artist name -> top-1), `n_images`.
    """
    metrics = {"n_images": int(len(next(iter(preds.values()))))}
    if "artist" in preds:
        mask = weights["artist"] > 0
        metrics["artist_top1"] = _accuracy(preds["artist"], targets["artist"], mask)
        metrics["artist_top5"] = _accuracy(preds["artist"], targets["artist"], mask, k=5)
        true = targets["artist"].argmax(1)
        hit = preds["artist"].argmax(1) == true
        metrics["per_artist_accuracy"] = {
            name: float(hit[mask & (true == i)].mean())
            for i, name in enumerate(artist_names)
            if (mask & (true == i)).any()
        }
    if "movement" in preds:
        metrics["movement_top1"] = _accuracy(preds["movement"], targets["movement"], weights["movement"] > 0)
    if "year" in preds:
        mask = weights["year"] > 0
        error = np.abs(preds["year"].reshape(-1) - targets["year"].reshape(-1))[mask]
        metrics["year_mae"] = float(error.mean()) if mask.any() else None
    return metrics


def confusion_matrix(preds, targets, weights, n_classes: int) -> np.ndarray:
    """Counts `(n_classes, n_classes)`: row = true artist, column = predicted."""
    mask = weights["artist"] > 0
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (targets["artist"][mask].argmax(1), preds["artist"][mask].argmax(1)), 1)
    return matrix
