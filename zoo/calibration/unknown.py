""""None of these artists": out-of-set scores, their threshold and how well they separate.

Every score is higher for works the model knows (accepted when score >= threshold):

    msp     maximum softmax probability of the (calibrated) artist head (Hendrycks & Gimpel 2017)
    energy  T * logsumexp(z / T), the negative free energy of the logits z (Liu et al. 2020)

The threshold accepts a stated share (true-positive rate, default 95 %) of known-artist
validation works. AUROC: the probability that a known work scores above an unknown one
(the Mann-Whitney U statistic, scipy).
"""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import mannwhitneyu

SCORES = ("msp", "energy")
DEFAULT_TPR = 0.95


def msp(probs) -> np.ndarray:
    """`(n,)` maximum probability of `(n, K)` probabilities."""
    return np.asarray(probs, np.float64).max(axis=1)


def energy(logits, temperature: float = 1.0) -> np.ndarray:
    """`(n,)` negative free energy `T logsumexp(z / T)` of `(n, K)` logits."""
    return float(temperature) * logsumexp(np.asarray(logits, np.float64) / temperature, axis=1)


def scores_of(kind: str, probs, logits=None, temperature: float = 1.0) -> np.ndarray:
    """Score `kind` of each image; "energy" needs the head's true logits (not log-probabilities)."""
    if kind == "msp":
        return msp(probs)
    if kind == "energy":
        if logits is None:
            raise ValueError("the energy score needs the artist head's logits (a Keras model)")
        return energy(logits, temperature)
    raise ValueError(f"unknown-artist score {kind!r}: valid are {', '.join(SCORES)}")


def threshold_at_tpr(known_scores, tpr: float = DEFAULT_TPR) -> float:
    """The score above which a share `tpr` of `known_scores` lies."""
    return float(np.quantile(np.asarray(known_scores, np.float64), 1.0 - tpr, method="lower"))


def auroc(known_scores, unknown_scores) -> float:
    """Area under the ROC curve, known works the positives (0.5: no separation)."""
    known, unknown = np.asarray(known_scores), np.asarray(unknown_scores)
    if not len(known) or not len(unknown):
        return float("nan")
    return float(mannwhitneyu(known, unknown).statistic / (len(known) * len(unknown)))


def accepted_share(scores, threshold: float) -> float:
    """Share of `scores` at or above `threshold` (for unknown works: the FPR at the threshold)."""
    scores = np.asarray(scores)
    return float((scores >= threshold).mean()) if len(scores) else float("nan")
