"""Temperature scaling (Guo et al. 2017) and its measures, from probabilities.

A head outputs `softmax(z / T)`. Its logits are known up to a per-row constant from the
probabilities: `log p * T = z - const`, so fitting and measuring need only the outputs
and the temperature they were made with. Shapes: `probs (n, K)`, `labels (n,)` int ids.
"""

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

ECE_BINS = 15  # equal-width confidence bins of the ECE and the reliability diagram
_EPS = 1e-12
_LOG_T_RANGE = (np.log(0.2), np.log(10.0))  # temperatures searched: a split without errors gets 0.2, not ~0


def logits_of(probs, temperature: float = 1.0) -> np.ndarray:
    """`(n, K)` logits (up to a per-row constant) of probabilities made at `temperature`."""
    return np.log(np.clip(np.asarray(probs, np.float64), _EPS, 1.0)) * float(temperature)


def softmax_at(logits, temperature: float) -> np.ndarray:
    """`(n, K)` probabilities `softmax(logits / temperature)`."""
    return np.exp(log_softmax(np.asarray(logits, np.float64) / temperature, axis=1))


def nll(probs, labels) -> float:
    """Mean negative log-likelihood (nats) of the true class."""
    probs = np.asarray(probs, np.float64)
    return float(-np.log(np.clip(probs[np.arange(len(labels)), labels], _EPS, 1.0)).mean()) + 0.0  # no -0.0


def fit_temperature(logits, labels) -> float:
    """The temperature minimising the NLL of `softmax(logits / T)` on `labels` (a bounded
    one-dimensional search over log T in [0.2, 10]; 1.0 for an empty split)."""
    if len(labels) == 0:
        return 1.0
    logits = np.asarray(logits, np.float64)
    rows = np.arange(len(labels))

    def loss(log_t):
        return -log_softmax(logits / np.exp(log_t), axis=1)[rows, labels].mean()

    result = minimize_scalar(loss, bounds=_LOG_T_RANGE, method="bounded", options={"xatol": 1e-4})
    return float(np.exp(result.x))


def reliability_bins(probs, labels, bins: int = ECE_BINS):
    """Per equal-width confidence bin: (mean confidence, accuracy, count), each `(bins,)`;
    empty bins have confidence and accuracy NaN."""
    probs = np.asarray(probs, np.float64)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(labels)
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    count = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(index, confidence, minlength=bins) / count
        acc = np.bincount(index, correct.astype(float), minlength=bins) / count
    return conf, acc, count


def ece(probs, labels, bins: int = ECE_BINS) -> float:
    """Expected calibration error: sum over bins of (share of samples) x |accuracy - confidence|."""
    conf, acc, count = reliability_bins(probs, labels, bins)
    filled = count > 0
    return float((count[filled] / count.sum() * np.abs(acc[filled] - conf[filled])).sum())
