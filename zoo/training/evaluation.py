"""Metrics of a model on one split, computed from predictions (numpy; the same on every backend).

Everything loops over the label space: classification tasks get `{task}_top1`, the
primary task (`data_tools.labels.PRIMARY`, the artist) also `per_{task}_accuracy` and,
with more than `TOP_K` classes (else it is always 1), `{task}_top5`; regression tasks
`{task}_mae` (in the task's units).
"""

import json
import time

import numpy as np

from data_tools.files import write_atomic
from data_tools.labels import PRIMARY, LabelSpace
from zoo.run_folder import RunFolder

TOP_K = 5  # the primary task's top-k accuracy (metrics.json, and the training metric)


def _predict(predictor, images) -> dict:
    """`{head: array}` from a keras model (`predict_on_batch`) or a Predictor (`predict`)."""
    if hasattr(predictor, "predict_on_batch"):
        return predictor.predict_on_batch(images)
    return predictor.predict(images)


def collect_predictions(predictor, dataset):
    """Run `predictor` (a keras model, or anything with `predict(images) -> {head: array}`,
    such as a `zoo.inference` Predictor) over a `(images, targets, weights)` dataset.

    Returns four things: three dicts of numpy arrays keyed by head (predictions,
    targets, weights, each concatenated over batches: `(n, classes)`, `(n, 1)`
    or `(n,)`), and inference images/s over the full-size batches after the first
    (the first batch and a short last one carry compilation). A split without
    such a batch (60 images at batch 32) times its first batch once more, compiled
    by then; None only for an empty dataset.
    """
    preds, targets, weights = {}, {}, {}
    seconds, timed, first = 0.0, 0, None
    for images, y, w in dataset.as_numpy_iterator():
        start = time.perf_counter()
        out = _predict(predictor, images)
        if first is None:
            first = images
        elif len(images) == len(first):
            seconds += time.perf_counter() - start
            timed += len(images)
        for store, batch in ((preds, out), (targets, y), (weights, w)):
            for key, value in batch.items():
                store.setdefault(key, []).append(np.asarray(value))
    if first is not None and not timed:
        start = time.perf_counter()
        _predict(predictor, first)
        seconds, timed = time.perf_counter() - start, len(first)
    join = lambda d: {k: np.concatenate(v) for k, v in d.items()}  # noqa: E731
    return join(preds), join(targets), join(weights), (timed / seconds if seconds else None)


def _accuracy(pred, true, mask, k=1):
    if not mask.any():
        return None
    topk = np.argsort(-pred[mask], axis=1)[:, :k]
    return float((topk == true[mask].argmax(1)[:, None]).any(axis=1).mean())


def _per_class(pred, true, mask, names) -> dict[str, float]:
    """Class name -> top-1 accuracy over the samples of that class (classes with samples)."""
    true = true.argmax(1)
    hit = pred.argmax(1) == true
    return {name: float(hit[mask & (true == i)].mean()) for i, name in enumerate(names)
            if (mask & (true == i)).any()}


def compute_metrics(preds, targets, weights, label_space: LabelSpace) -> dict:
    """The report of one split, for the tasks of `label_space` that `preds` holds.

    Keys (today's names for the artist/movement/year tasks): `artist_top1`,
    `artist_top5` (more than 5 artists), `movement_top1` (fractions 0-1, None when the split has no such
    labels), `year_mae` (years), `per_artist_accuracy` (artist name -> top-1), `n_images`;
    each task's metrics are over the rows that have its label (weight > 0), and
    `n_images_with_artist` says how many have an artist where some have none.
    """
    metrics = {"n_images": int(len(next(iter(preds.values()))))}
    for task in label_space.tasks:
        if task.name not in preds:
            continue
        pred, true, mask = preds[task.name], targets[task.name], weights[task.name] > 0
        if task.is_regression:
            error = np.abs(pred.reshape(-1) - true.reshape(-1))[mask]
            metrics[f"{task.name}_mae"] = float(error.mean()) if mask.any() else None
            continue
        metrics[f"{task.name}_top1"] = _accuracy(pred, true, mask)
        if task.name == PRIMARY:
            if mask.sum() < len(mask):  # rows without an artist (e.g. protocol artgan-genre)
                metrics[f"n_images_with_{task.name}"] = int(mask.sum())
            if len(task.classes) > TOP_K:
                metrics[f"{task.name}_top{TOP_K}"] = _accuracy(pred, true, mask, k=TOP_K)
            metrics[f"per_{task.name}_accuracy"] = _per_class(pred, true, mask, task.classes)
    return metrics


def confusion_matrix(preds, targets, weights, n_classes: int, task: str = PRIMARY) -> np.ndarray:
    """Counts `(n_classes, n_classes)` of classification head `task`: row = true, column = predicted."""
    mask = weights[task] > 0
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (targets[task][mask].argmax(1), preds[task][mask].argmax(1)), 1)
    return matrix


def evaluate_into(predictor, dataset, label_space: LabelSpace, out_dir, *, split: str, suffix: str = "",
                  extra: dict | None = None, unknown=None) -> dict:
    """Metrics of `predictor` (an ArtistModel, or anything with `predict(images) -> {head:
    array}`) on `dataset` (plus `extra`) -> `metrics{suffix}.json`, one confusion matrix
    per classification head (`RunFolder.confusion_path`) and the reliability diagram in
    `out_dir`. Training writes the test split without a suffix, with the model's `params`
    and forward `gflops` per image; `zoo evaluate` uses "-<split>". `unknown`: batches of
    works by artists outside the model (`zoo.training.unknown_data`) for the unknown-artist
    figures (`calibration_metrics`). Returns the metrics.
    """
    from zoo.training import plots
    from zoo.training.calibration_metrics import calibration_metrics

    model = keras_model_of(predictor)
    preds, targets, weights, infer_img_s, logits = _outputs(predictor, model, dataset)
    record, temps = calibration_of(predictor, model)
    metrics = {"split": split, **compute_metrics(preds, targets, weights, label_space),
               **calibration_metrics(preds, targets, weights, label_space, record, temps),
               "infer_img_s": infer_img_s, "backend": _backend_name(predictor), **(extra or {})}
    if unknown is not None:
        metrics.update(_unknown_figures(predictor, model, unknown, record, preds, weights, logits))
    folder = RunFolder(out_dir)
    write_atomic(folder.metrics_path(suffix), json.dumps(metrics, indent=1))
    for task in label_space.classification:
        if task.name in preds:
            matrix = confusion_matrix(preds, targets, weights, len(task.classes), task.name)
            plots.plot_confusion(matrix, task.classes, folder.confusion_path(task.name, suffix),
                                 title=f"{task.name} confusion ({split} split)", task=task.name)
    heads = {t.name: (preds[t.name][weights[t.name] > 0], targets[t.name][weights[t.name] > 0].argmax(1),
                      temps.get(t.name, 1.0)) for t in label_space.classification if t.name in preds}
    plots.plot_reliability(heads, folder.reliability_path(suffix), title=f"reliability ({split} split)")
    return metrics


def keras_model_of(predictor):
    """The ArtistModel behind `predictor` (itself, or a KerasPredictor's), else None (an artifact)."""
    model = getattr(predictor, "model", predictor)
    return model if hasattr(model, "heads") and hasattr(model, "backbone") else None


def calibration_of(predictor, model) -> tuple[dict | None, dict]:
    """(calibration record or None, {class head: temperature}) of a model or an artifact's sidecar."""
    if model is not None:
        return model.calibration, {n: h.temperature for n, h in model.heads.items() if not h.is_regression}
    record = getattr(predictor, "calibration", None)
    return record, dict((record or {}).get("temperature", {}))


def _outputs(predictor, model, dataset):
    """`collect_predictions` (through `with_features` for a Keras model) plus the heads' logits (None
    for an artifact)."""
    from zoo.training.features import FEATURES, head_logits, with_features

    if model is None:
        return (*collect_predictions(predictor, dataset), None)
    preds, targets, weights, img_s = collect_predictions(with_features(model), dataset)
    return preds, targets, weights, img_s, head_logits(model, preds.pop(FEATURES))


def _unknown_figures(predictor, model, batches, record, preds, weights, logits) -> dict:
    """`unknown_*` metrics: the known split's labelled primary-head rows against `batches`."""
    from zoo.training.calibration_metrics import unknown_metrics

    mask = weights[PRIMARY] > 0
    other, _, _, _, other_logits = _outputs(predictor, model, batches)
    return unknown_metrics(record, preds[PRIMARY][mask], other[PRIMARY],
                           None if logits is None else logits[PRIMARY][mask],
                           None if other_logits is None else other_logits[PRIMARY])


def _backend_name(predictor) -> str:
    """The Keras backend for a keras model, else the Predictor's `runtime`."""
    if hasattr(predictor, "predict_on_batch"):
        import keras

        return keras.backend.backend()
    return str(getattr(predictor, "runtime", "unknown"))
