"""Split-conformal prediction sets and intervals (Angelopoulos & Bates, arXiv 2107.07511).

A non-conformity score `s(x, y)` is computed for every class; the threshold `qhat` is the
`ceil((n + 1) c) / n` quantile of the calibration split's true-class scores, and the set of
an image is `{y : s(x, y) <= qhat}`: it holds the true class with probability >= c (coverage)
for exchangeable data. Methods:

    lac   s = 1 - p_y                                    (smallest sets on average)
    aps   s = mass of the classes ranked up to and including y (adaptive sizes)
    raps  aps + lam * max(0, rank_y - k_reg)             (penalises long tails)

Class-conditional: one `qhat` per class, from that class's calibration images only
(coverage per artist, at the price of larger sets for rare ones). Shapes: `probs (n, K)`,
`labels (n,)` int ids.
"""

import math

import numpy as np

METHODS = ("lac", "aps", "raps")
ALWAYS = 1e6  # qhat of a class with too few calibration images: always in the set
RAPS_LAMBDA, RAPS_K_REG = 0.01, 1  # RAPS penalty and free set size (the paper's defaults scale)


def class_scores(probs, method: str, lam: float = RAPS_LAMBDA, k_reg: int = RAPS_K_REG) -> np.ndarray:
    """`(n, K)` non-conformity score of every class (module docstring)."""
    probs = np.asarray(probs, np.float64)
    if method == "lac":
        return 1.0 - probs
    if method not in METHODS:
        raise ValueError(f"conformal method {method!r}: valid are {', '.join(METHODS)}")
    order = np.argsort(-probs, axis=1, kind="stable")
    cumulative = np.cumsum(np.take_along_axis(probs, order, axis=1), axis=1)
    if method == "raps":
        ranks = np.arange(1, probs.shape[1] + 1)
        cumulative = cumulative + lam * np.maximum(0, ranks - k_reg)
    scores = np.empty_like(cumulative)
    np.put_along_axis(scores, order, cumulative, axis=1)
    return scores


def conformal_quantile(scores, coverage: float) -> float:
    """The finite-sample-valid threshold: the ceil((n+1) c)-th smallest score (ALWAYS when
    n is too small for coverage c)."""
    scores = np.sort(np.asarray(scores, np.float64))
    rank = math.ceil((len(scores) + 1) * coverage)
    return float(scores[rank - 1]) if 0 < rank <= len(scores) else ALWAYS


def fit_sets(probs, labels, coverage: float, method: str = "lac", class_conditional: bool = False) -> dict:
    """The stored thresholds of one head: {"qhat": float | [per class]} (+ RAPS parameters)."""
    labels = np.asarray(labels)
    true = class_scores(probs, method)[np.arange(len(labels)), labels]
    fitted = {"qhat": conformal_quantile(true, coverage)}
    if class_conditional:
        fitted["qhat"] = [conformal_quantile(true[labels == k], coverage) for k in range(np.shape(probs)[1])]
    if method == "raps":
        fitted.update(lam=RAPS_LAMBDA, k_reg=RAPS_K_REG)
    return fitted


def prediction_sets(probs, fitted: dict, method: str) -> np.ndarray:
    """`(n, K)` bool membership of every class in each image's set."""
    scores = class_scores(probs, method, fitted.get("lam", RAPS_LAMBDA), fitted.get("k_reg", RAPS_K_REG))
    return scores <= np.asarray(fitted["qhat"], np.float64)


def fit_interval(pred, true, coverage: float) -> float:
    """Half-width of the conformal interval `pred +- w` (absolute-residual score), in target units."""
    residuals = np.abs(np.asarray(pred, np.float64).reshape(-1) - np.asarray(true, np.float64).reshape(-1))
    return conformal_quantile(residuals, coverage)


def set_metrics(members, labels) -> tuple[float, float]:
    """(coverage: share of images whose true label is in the set, mean set size)."""
    members, labels = np.asarray(members), np.asarray(labels)
    if not len(labels):
        return float("nan"), float("nan")
    return float(members[np.arange(len(labels)), labels].mean()), float(members.sum(axis=1).mean())
