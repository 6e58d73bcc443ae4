"""The calibration record stored with a model (`ArtistModel.calibration`, the export sidecar's
"calibration"), how it is fitted from a validation split's outputs and applied to outputs.

    {"coverage": 0.9, "method": "lac", "class_conditional": false, "calibrate": "temperature",
     "temperature": {head: T},                  # informational: the heads apply it in the graph
     "sets": {class head: {"qhat": float | [per class], ...}},
     "intervals": {regression head: {"half_width": float}},     # target units (years)
     "unknown": {"head": "artist", "score": "energy", "tpr": 0.95, "thresholds": {score: float}}}

Inputs are numpy: `probs {head: (n, K)}` calibrated probabilities, `values {head: (n,)}`,
`labels {head: (n,)}` int ids / targets with `known {head: (n,)}` bool masks.
"""

import numpy as np

from zoo.calibration import conformal, unknown

DEFAULT_COVERAGE = 0.9
# A Keras predictor's extra output: the primary head's logits (n, K), for the energy score.
LOGITS_KEY = "artist:logits"


def fit_record(tasks, probs, logits, temperatures, targets, known, *, coverage=DEFAULT_COVERAGE,
               method="lac", class_conditional=False, tpr=unknown.DEFAULT_TPR, score="energy",
               calibrate="temperature", primary="artist") -> dict:
    """The record (module docstring) from a calibration split. `tasks`: `data_tools.labels.Task`s;
    `logits {class head: (n, K)}` true logits (for the energy score) or log-probabilities;
    `targets`: one-hot `(n, K)` / values `(n, 1)`; `known`: masks of labelled rows."""
    record = {"coverage": float(coverage), "method": method, "class_conditional": bool(class_conditional),
              "calibrate": calibrate, "temperature": {k: float(v) for k, v in temperatures.items()},
              "sets": {}, "intervals": {}}
    for task in tasks:
        mask = known[task.name]
        if not mask.any():
            continue
        if task.is_regression:
            half = conformal.fit_interval(probs[task.name][mask], targets[task.name][mask], coverage)
            record["intervals"][task.name] = {"half_width": half}
        else:
            labels = targets[task.name][mask].argmax(1)
            record["sets"][task.name] = conformal.fit_sets(probs[task.name][mask], labels, coverage, method,
                                                           class_conditional)
    if primary in record["sets"]:
        mask, temp = known[primary], temperatures.get(primary, 1.0)
        record["unknown"] = {"head": primary, "score": score, "tpr": float(tpr), "thresholds": {
            kind: unknown.threshold_at_tpr(unknown.scores_of(kind, probs[primary][mask], logits[primary][mask], temp), tpr)
            for kind in unknown.SCORES}}
    return record


def members(record: dict | None, head: str, probs) -> np.ndarray | None:
    """`(n, K)` set membership of `head`'s classes, or None without a fitted set."""
    if not record or head not in record.get("sets", {}):
        return None
    return conformal.prediction_sets(np.atleast_2d(probs), record["sets"][head], record["method"])


def interval(record: dict | None, head: str, values) -> np.ndarray | None:
    """`(n, 2)` [low, high] conformal interval around `values` `(n,)`, or None."""
    if not record or head not in record.get("intervals", {}):
        return None
    values = np.asarray(values, np.float64).reshape(-1)
    half = record["intervals"][head]["half_width"]
    return np.stack([values - half, values + half], axis=1)


def wants_logits(record: dict | None) -> bool:
    """Whether the record's unknown-artist score needs the primary head's logits."""
    return ((record or {}).get("unknown") or {}).get("score") == "energy"


def unknown_verdict(record: dict | None, probs, logits=None) -> list[dict] | None:
    """Per image of the primary head's `probs (n, K)`: {"unknown": bool, "score", "threshold",
    "kind"}. The stored score kind when `logits` allow it, else the max softmax probability."""
    spec = (record or {}).get("unknown")
    if not spec:
        return None
    kind = spec["score"] if logits is not None or spec["score"] == "msp" else "msp"
    temp = record.get("temperature", {}).get(spec["head"], 1.0)
    scores = unknown.scores_of(kind, np.atleast_2d(probs), None if logits is None else np.atleast_2d(logits), temp)
    threshold = spec["thresholds"][kind]
    return [{"unknown": bool(s < threshold), "score": round(float(s), 4), "threshold": round(threshold, 4),
             "kind": kind} for s in scores]
