"""Calibration on real models (child processes): the temperature lives in the saved graph, an old
model without one calibrates and keeps it, and a model that never saw an artist calls most of
that artist's works unknown (issue 20)."""

import pytest

from tests.conftest import run_child


def test_old_model_calibrates_and_keeps_temperature_and_thresholds(tmp_path):
    got = run_child("torch", "calibration:calibrate_legacy", workdir=str(tmp_path))
    assert got["before"] == {"artist": 1.0, "movement": 1.0}  # saved before temperatures existed
    assert got["loaded_t"] == pytest.approx(got["record_t"]) and got["record_t"] != 1.0
    assert got["same_record"] and got["method"] == "aps"
    assert got["graph_diff"] < 1e-5  # the saved model outputs softmax(logits / T)
    assert {"artist_set", "movement_set", "year_interval", "unknown"} <= set(got["keys"])


@pytest.mark.slow
def test_a_model_that_never_saw_an_artist_calls_most_of_its_works_unknown(tmp_path):
    got = run_child("torch", "calibration:holdout_unknown", workdir=str(tmp_path))
    print("held-out artist:", got)
    assert got["test_top1"] >= 0.8, got
    assert got["unknown_share"] > 0.5, got
