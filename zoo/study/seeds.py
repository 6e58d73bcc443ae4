"""Seeds and intervals of the compare study: per-seed results -> mean, std and a 95 % interval.

The interval is Student's t over seeds: mean +- t(0.975, n - 1) * s / sqrt(n), with s the
sample standard deviation (ddof 1) of the n per-seed values (scipy's t quantile). It is the
interval of the mean accuracy a model x backend cell reaches over training seeds (initial
weights, data order, dropout), not over test images. With one seed there is no interval
(std and bounds are None).
"""

import math

import numpy as np
from scipy import stats

LEVEL = 0.95


def seed_list(first: int, n: int) -> list[int]:
    """The study's seeds: `n` consecutive integers from `first`."""
    return list(range(first, first + n))


def interval(values, bounds: tuple[float, float] | None = (0.0, 1.0)) -> dict:
    """{"n", "mean", "std", "ci_low", "ci_high"} of the per-seed `values` (t interval, LEVEL),
    the bounds clipped to `bounds` (default: an accuracy's 0..1; None: not clipped)."""
    x = np.asarray([v for v in values if v is not None], dtype=float)
    if x.size == 0:
        return {"n": 0, "mean": None, "std": None, "ci_low": None, "ci_high": None}
    mean = float(x.mean())
    if x.size == 1:
        return {"n": 1, "mean": mean, "std": None, "ci_low": None, "ci_high": None}
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + LEVEL / 2, x.size - 1)) * std / math.sqrt(x.size)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return {"n": int(x.size), "mean": mean, "std": std, "ci_low": low, "ci_high": high}


def overlaps(a: dict, b: dict) -> bool:
    """True when two intervals (`interval` results) overlap; a missing interval is its mean
    alone (a point), so two single-seed cells overlap only when equal."""
    lo_a, hi_a = _bounds(a)
    lo_b, hi_b = _bounds(b)
    return lo_a <= hi_b and lo_b <= hi_a


def _bounds(r: dict) -> tuple[float, float]:
    if r["ci_low"] is None:
        return r["mean"], r["mean"]
    return r["ci_low"], r["ci_high"]


def rank(summaries: dict[str, dict]) -> dict[str, dict]:
    """Name -> {"rank", "tied"} for name -> `interval` result, best mean first.

    `rank` is 1 + the number of entries whose interval lies entirely above this one's (so
    entries that are not clearly apart share a rank); `tied` lists the others whose intervals
    overlap this one's, best first. Entries without a mean are left out.
    """
    names = sorted((n for n in summaries if summaries[n]["mean"] is not None), key=lambda n: -summaries[n]["mean"])
    out = {}
    for name in names:
        mine = summaries[name]
        above = sum(_bounds(summaries[o])[0] > _bounds(mine)[1] for o in names if o != name)
        tied = [o for o in names if o != name and overlaps(mine, summaries[o])]
        out[name] = {"rank": 1 + above, "tied": tied}
    return out


def backend_effect(seed_std: float | None, backend_values: dict[str, float], n_test: int | None = None) -> dict:
    """Whether the backend changed a model's accuracy: the spread (max - min) across backends
    of the same seed and initial weights, against the noise of one accuracy.

    The noise is the larger of the seed-to-seed standard deviation and, with `n_test` test
    images, the binomial standard error sqrt(p (1 - p) / n_test) at the backends' mean p (a
    model stuck at chance on every seed has seed std 0, yet one image more is 1/n_test).
    Verdict "no": spread <= 2 noise (also a spread of 0); "yes": above that; "unknown":
    fewer than 2 backends, or neither a seed std nor `n_test`.
    """
    values = [v for v in backend_values.values() if v is not None]
    spread = max(values) - min(values) if len(values) >= 2 else None
    noises = [seed_std] if seed_std is not None else []
    if spread is not None and n_test:
        p = sum(values) / len(values)
        noises.append(math.sqrt(p * (1 - p) / n_test))
    if spread is None:
        verdict = "unknown"
    elif spread == 0:
        verdict = "no"
    elif not noises:
        verdict = "unknown"
    else:
        verdict = "no" if spread <= 2 * max(noises) else "yes"
    return {"backend_spread": spread, "seed_std": seed_std, "backend_mattered": verdict}
