"""Calibration, conformal sets and intervals, unknown-artist scores (`zoo.calibration`): numpy
checks on simulated softmax outputs with a fixed seed, and the prediction JSON / report / plot."""

import json

import numpy as np
import pytest

from data_tools.labels import LabelSpace, Task
from zoo.calibration import conformal, store, temperature, unknown

N, K = 20_000, 20  # a large synthetic split: calibration half, test half


def simulated(seed: int, n: int = N, k: int = K, true_t: float = 2.0):
    """Logits and labels drawn from softmax(logits / true_t): a model over-confident by true_t."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, (n, k)) + np.linspace(0, 2, k)  # unequal class frequencies
    probs = temperature.softmax_at(logits, true_t)
    labels = (probs.cumsum(1) > rng.random((n, 1))).argmax(1)
    return logits, labels


def test_temperature_fit_recovers_the_true_temperature_and_lowers_ece():
    logits, labels = simulated(0)
    t = temperature.fit_temperature(logits, labels)
    assert t == pytest.approx(2.0, rel=0.05)
    raw, calibrated = temperature.softmax_at(logits, 1.0), temperature.softmax_at(logits, t)
    assert temperature.ece(calibrated, labels) < 0.02 < temperature.ece(raw, labels)
    assert temperature.nll(calibrated, labels) < temperature.nll(raw, labels)
    # the logits up to a row constant, from probabilities made at a temperature
    again = temperature.softmax_at(temperature.logits_of(calibrated, t), t)
    np.testing.assert_allclose(again, calibrated, atol=1e-9)


def test_ece_and_reliability_bins_on_a_known_case():
    probs = np.array([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.55, 0.45]])
    labels = np.array([0, 1, 0, 0])  # 50 % right at 0.95, 100 % at 0.55
    conf, acc, count = temperature.reliability_bins(probs, labels)
    assert count.sum() == 4 and np.nansum(count[count > 0]) == 4
    assert temperature.ece(probs, labels) == pytest.approx(0.5 * 0.45 + 0.5 * 0.45)
    assert np.isnan(conf[0]) and acc[np.argmax(count)] in (0.5, 1.0)


@pytest.mark.parametrize("method,class_conditional", [("lac", False), ("aps", False), ("raps", False),
                                                      ("lac", True)])
def test_coverage_on_a_large_synthetic_split_is_within_003_of_the_target(method, class_conditional):
    logits, labels = simulated(1)
    probs = temperature.softmax_at(logits, 2.0)
    half = N // 2
    fitted = conformal.fit_sets(probs[:half], labels[:half], 0.9, method, class_conditional)
    json.dumps(fitted)  # stored in the model's config
    members = conformal.prediction_sets(probs[half:], fitted, method)
    coverage, size = conformal.set_metrics(members, labels[half:])
    assert abs(coverage - 0.9) <= 0.03, (method, coverage)
    assert 1 <= size < K


def test_lac_gives_the_smallest_sets_and_higher_coverage_asks_for_larger_ones():
    logits, labels = simulated(2)
    probs, half = temperature.softmax_at(logits, 2.0), N // 2
    sizes = {}
    for method in conformal.METHODS:
        for c in (0.8, 0.9):
            members = conformal.prediction_sets(probs[half:], conformal.fit_sets(probs[:half], labels[:half], c, method),
                                                method)
            sizes[method, c] = conformal.set_metrics(members, labels[half:])[1]
    assert all(sizes[m, 0.8] < sizes[m, 0.9] for m in conformal.METHODS)
    assert sizes["lac", 0.9] <= min(sizes["aps", 0.9], sizes["raps", 0.9])


def test_year_interval_covers_the_target_share_and_tiny_splits_get_no_threshold():
    rng = np.random.default_rng(3)
    true = rng.uniform(1600, 1950, 2 * N)
    pred = true + rng.normal(0, 30, 2 * N)
    half = conformal.fit_interval(pred[:N], true[:N], 0.9)
    assert half == pytest.approx(1.645 * 30, rel=0.05)
    assert abs(np.mean(np.abs(pred[N:] - true[N:]) <= half) - 0.9) <= 0.03
    assert conformal.conformal_quantile([0.1, 0.2, 0.3], 0.9) == conformal.ALWAYS  # n=3 < 1/(1-c) - 1


def test_unknown_threshold_accepts_the_stated_share_and_auroc_ranks():
    rng = np.random.default_rng(4)
    known, other = rng.normal(2, 1, 5000), rng.normal(0, 1, 5000)
    threshold = unknown.threshold_at_tpr(known, 0.95)
    assert unknown.accepted_share(known, threshold) == pytest.approx(0.95, abs=0.002)
    assert unknown.auroc(known, other) == pytest.approx(0.92, abs=0.01)  # Phi(2 / sqrt 2)
    assert unknown.auroc(known, known) == pytest.approx(0.5)
    assert unknown.accepted_share(other, threshold) == pytest.approx(0.36, abs=0.02)  # 1 - Phi(2 - 1.645)
    logits = np.array([[0.0, np.log(3.0)]])
    assert unknown.energy(logits)[0] == pytest.approx(np.log(4.0))
    assert unknown.msp(temperature.softmax_at(logits, 1.0))[0] == pytest.approx(0.75)


LABELS = LabelSpace((Task("artist", ("a", "b", "c")), Task("year", (), 1850.0, 100.0)))


def fitted_record(score="msp"):
    logits, labels = simulated(5, n=600, k=3)
    probs = temperature.softmax_at(logits, 2.0)
    year = 1850 + labels * 50.0
    targets = {"artist": np.eye(3)[labels], "year": (year + np.random.default_rng(0).normal(0, 10, 600))[:, None]}
    known = {"artist": np.ones(600, bool), "year": np.ones(600, bool)}
    return store.fit_record(LABELS.tasks, {"artist": probs, "year": year[:, None]}, {"artist": logits},
                            {"artist": 2.0}, targets, known, score=score)


def test_the_record_is_json_and_drives_sets_intervals_and_the_verdict():
    from zoo.inference.prediction import prediction_json

    record = json.loads(json.dumps(fitted_record()))
    assert set(record) >= {"coverage", "method", "temperature", "sets", "intervals", "unknown"}
    assert record["intervals"]["year"]["half_width"] == pytest.approx(16.4, rel=0.2)
    sure = prediction_json({"artist": np.array([0.96, 0.03, 0.01]), "year": np.array([1900.0])}, LABELS,
                           top_k=2, calibration=record)
    assert sure["artist_set"][0] == "a" and sure["unknown"]["verdict"] == "known artist"
    assert sure["year_interval"][0] < 1900 < sure["year_interval"][1]
    vague = prediction_json({"artist": np.array([0.34, 0.33, 0.33]), "year": np.array([1900.0])}, LABELS,
                            calibration=record)
    assert vague["unknown"]["unknown"] and vague["unknown"]["verdict"] == "unknown artist"
    assert vague["unknown"]["score"] < vague["unknown"]["threshold"] and vague["unknown"]["kind"] == "msp"
    assert len(vague["artist_set"]) >= len(sure["artist_set"])
    # without logits (an exported artifact) a record asking for energy falls back to msp
    assert store.unknown_verdict(fitted_record("energy"), [[0.9, 0.05, 0.05]])[0]["kind"] == "msp"
    assert "artist_set" not in prediction_json({"artist": np.array([0.5, 0.3, 0.2]), "year": np.array([1.0])},
                                               LABELS)  # uncalibrated: no sets, as before


def test_calibration_metrics_report_and_reliability_png(tmp_path, capsys):
    from zoo.training import plots
    from zoo.training.calibration_metrics import calibration_metrics, unknown_metrics
    from zoo.training.report import print_metrics

    record = fitted_record()
    logits, labels = simulated(6, n=300, k=3)
    probs = temperature.softmax_at(logits, 2.0)
    preds = {"artist": probs, "year": (1850 + labels * 50.0)[:, None]}
    targets = {"artist": np.eye(3)[labels], "year": preds["year"] + 5}
    weights = {"artist": np.ones(300), "year": np.ones(300)}
    metrics = calibration_metrics(preds, targets, weights, LABELS, record, {"artist": 2.0})
    assert {"artist_ece", "artist_ece_raw", "artist_nll", "artist_temperature", "artist_coverage",
            "artist_set_size", "year_interval_coverage", "year_interval_width", "per_artist_coverage"} <= set(metrics)
    assert metrics["artist_ece"] < metrics["artist_ece_raw"] and metrics["year_interval_coverage"] == 1.0
    flat = temperature.softmax_at(np.zeros((50, 3)) + np.random.default_rng(1).normal(0, 0.1, (50, 3)), 2.0)
    got = unknown_metrics(record, probs, flat)
    assert got["unknown_auroc"] > 0.9 and got["unknown_fpr95"] < 0.2 and got["unknown_score"] == "msp"
    print_metrics({"artist_top1": 0.5, **metrics, **got, "n_images": 300}, "test metrics")
    shown = capsys.readouterr().out
    assert "artist ECE before temperature" in shown and "unknown AUROC" in shown and "year interval width" in shown
    path = tmp_path / "reliability.png"
    plots.plot_reliability({"artist": (probs, labels, 2.0)}, path)
    assert path.stat().st_size > 10_000
