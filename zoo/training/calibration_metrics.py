"""The calibration, prediction-set and unknown-artist figures of one split (`metrics.json`).

Per classification head: `<head>_ece` (15 bins, after the temperature), `<head>_ece_raw`
(before), `<head>_nll` (nats, after), `<head>_temperature`; with a calibration record also
`<head>_coverage` and `<head>_set_size` (mean); per regression head `<head>_interval_coverage`
and `<head>_interval_width` (target units); `per_artist_coverage` (artist -> coverage).
With unknown works: `unknown_auroc`, `unknown_fpr95` (share accepted at the stored threshold,
set for a 95 % TPR) for the stored score, and `unknown_auroc_<score>`, `unknown_fpr95_<score>`
for every score the outputs allow. Inputs as `zoo.training.evaluation.compute_metrics`.
"""

import numpy as np

from data_tools.labels import PRIMARY
from zoo.calibration import conformal, store, temperature, unknown


def _head_figures(name, probs, labels, temp, record) -> dict:
    raw = temperature.softmax_at(temperature.logits_of(probs, temp), 1.0)
    out = {f"{name}_ece": temperature.ece(probs, labels), f"{name}_ece_raw": temperature.ece(raw, labels),
           f"{name}_nll": temperature.nll(probs, labels), f"{name}_temperature": float(temp)}
    members = store.members(record, name, probs)
    if members is not None:
        out[f"{name}_coverage"], out[f"{name}_set_size"] = conformal.set_metrics(members, labels)
    return out


def calibration_metrics(preds, targets, weights, label_space, record, temperatures) -> dict:
    """The keys of the module docstring for the heads `preds` holds; `temperatures {head: T}`
    the outputs were made with."""
    metrics = {}
    for task in label_space.tasks:
        if task.name not in preds or not (weights[task.name] > 0).any():
            continue
        mask = weights[task.name] > 0
        if task.is_regression:
            bounds = store.interval(record, task.name, preds[task.name][mask])
            if bounds is not None:
                true = targets[task.name][mask].reshape(-1)
                metrics[f"{task.name}_interval_coverage"] = float(((bounds[:, 0] <= true) & (true <= bounds[:, 1])).mean())
                metrics[f"{task.name}_interval_width"] = float((bounds[:, 1] - bounds[:, 0]).mean())
            continue
        probs, labels = preds[task.name][mask], targets[task.name][mask].argmax(1)
        metrics.update(_head_figures(task.name, probs, labels, temperatures.get(task.name, 1.0), record))
        members = store.members(record, task.name, probs)
        if task.name == PRIMARY and members is not None:
            hit = members[np.arange(len(labels)), labels]
            metrics[f"per_{task.name}_coverage"] = {c: float(hit[labels == i].mean()) for i, c in
                                                   enumerate(task.classes) if (labels == i).any()}
    return metrics


def unknown_metrics(record, known_probs, unknown_probs, known_logits=None, unknown_logits=None) -> dict:
    """AUROC and FPR at the stored thresholds of every score the inputs allow (module docstring):
    primary-head probabilities `(n, K)` of known-artist and of unknown works, logits optional."""
    spec = (record or {}).get("unknown") or {}
    temp = (record or {}).get("temperature", {}).get(PRIMARY, 1.0)
    kinds = [k for k in unknown.SCORES if k == "msp" or (known_logits is not None and unknown_logits is not None)]
    metrics = {"unknown_n_images": int(len(unknown_probs))}
    for kind in kinds:
        known = unknown.scores_of(kind, known_probs, known_logits, temp)
        other = unknown.scores_of(kind, unknown_probs, unknown_logits, temp)
        threshold = spec.get("thresholds", {}).get(kind, unknown.threshold_at_tpr(known, unknown.DEFAULT_TPR))
        metrics[f"unknown_auroc_{kind}"] = unknown.auroc(known, other)
        metrics[f"unknown_fpr95_{kind}"] = unknown.accepted_share(other, threshold)
        metrics[f"unknown_tpr_{kind}"] = unknown.accepted_share(known, threshold)
    kept = spec.get("score", "msp") if spec.get("score", "msp") in kinds else "msp"
    metrics.update(unknown_score=kept, unknown_auroc=metrics[f"unknown_auroc_{kept}"],
                   unknown_fpr95=metrics[f"unknown_fpr95_{kept}"])
    return metrics
