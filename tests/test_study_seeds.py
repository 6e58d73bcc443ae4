"""The compare study's seeds, intervals, ties and backend effect (numpy, with numbers); the hard
synthetic set and its colour-histogram calibration; one slow two-backend, two-seed compare run."""

import argparse
import csv
import io
import json
import math

import pytest
from rich.console import Console

from data_tools import colour_baseline, synth, synth_hard
from data_tools.manifest import read_manifest
from tests.conftest import run_cli
from zoo.cli import UsageError
from zoo.cli import run as cli_run
from zoo.study import aggregate, seeds


def test_t_interval_from_numbers():
    r = seeds.interval([0.5, 0.6, 0.7])
    half = 4.302652729911275 * 0.1 / math.sqrt(3)  # t(0.975, 2) = 4.3027
    assert r["n"] == 3 and r["mean"] == pytest.approx(0.6) and r["std"] == pytest.approx(0.1)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((0.6 - half, 0.6 + half))
    assert seeds.interval([0.2, 0.9])["ci_low"] == 0.0  # an accuracy's interval stays in 0..1
    assert seeds.interval([0.2, 0.9], bounds=None)["ci_low"] < 0
    one = seeds.interval([0.4, None])
    assert one["mean"] == 0.4 and one["std"] is None and one["ci_low"] is None
    assert seeds.seed_list(5, 3) == [5, 6, 7]


def test_seed_plan_trains_every_seed_on_the_accuracy_backend_only():
    from zoo.study import compare

    args = argparse.Namespace(seed=4, seeds=3, seeds_on=None, backends=["jax", "tensorflow", "torch"], models=["m"])
    seed_set, on, plan = compare.seed_plan(args)
    assert seed_set == [4, 5, 6] and on == ["torch"] and plan == {"jax": [4], "tensorflow": [4], "torch": [4, 5, 6]}
    assert compare._cells(args, plan) == [("m", "jax", [4]), ("m", "tensorflow", [4]), ("m", "torch", [4, 5, 6])]
    args.seeds_on = ["all"]
    assert compare.seed_plan(args)[2]["jax"] == [4, 5, 6]


def _runs(values: dict[str, list[float]], backend="torch"):
    return [{"model": m, "backend": backend, "seed": s, "status": "ok", "artist_top1": v, "wall_s": 10.0,
             "peak_rss_mb": 100.0 + s} for m, vs in values.items() for s, v in enumerate(vs)]


def test_interval_columns_follow_the_per_seed_results():
    runs = _runs({"a": [0.50, 0.60, 0.70]})
    before = aggregate.cell_rows(runs)[0]
    assert before["artist_top1"] == pytest.approx(0.6) and before["seeds"] == "0 1 2"
    assert before["wall_s"] == 30.0 and before["peak_rss_mb"] == 102.0
    runs[2]["artist_top1"] = 0.90  # one seed's result changes: the mean, std and interval move
    after = aggregate.cell_rows(runs)[0]
    assert after["artist_top1"] == pytest.approx(2.0 / 3)
    assert after["artist_top1_std"] > before["artist_top1_std"]
    assert after["artist_top1_ci_high"] > before["artist_top1_ci_high"]
    assert after["artist_top1_ci_low"] != pytest.approx(before["artist_top1_ci_low"])
    runs[1]["status"] = "failed: boom"
    failed = aggregate.cell_rows(runs)[0]
    assert failed["seeds"] == "0 2" and failed["status"] == "failed: boom (seed 1)"


def test_overlapping_intervals_tie_and_separated_ones_rank():
    runs = _runs({"top": [0.90, 0.92, 0.91], "near": [0.88, 0.93, 0.90], "low": [0.30, 0.32, 0.31]})
    rows = {r["model"]: r for r in aggregate.model_rows(runs, "torch", 0)}
    assert rows["top"]["rank"] == 1 and rows["near"]["rank"] == 1 and rows["low"]["rank"] == 3
    assert rows["top"]["tied"] == ["near"] and rows["low"]["tied"] == []
    text = aggregate.model_markdown(list(rows.values()), "torch", 0)
    assert "| 1 | top | 0.910 |" in text and "| 3 | low |" in text


def test_backend_effect_against_seed_noise():
    assert seeds.backend_effect(0.05, {"jax": 0.50, "torch": 0.52})["backend_mattered"] == "no"
    assert seeds.backend_effect(0.01, {"jax": 0.50, "torch": 0.60})["backend_mattered"] == "yes"
    assert seeds.backend_effect(None, {"jax": 0.5, "torch": 0.5})["backend_mattered"] == "no"  # identical
    assert seeds.backend_effect(0.05, {"torch": 0.5})["backend_mattered"] == "unknown"
    # Stuck at chance on every seed (std 0): one test image in 60 is not a backend effect.
    assert seeds.backend_effect(0.0, {"jax": 0.117, "torch": 0.100})["backend_mattered"] == "yes"
    assert seeds.backend_effect(0.0, {"jax": 0.117, "torch": 0.100}, n_test=60)["backend_mattered"] == "no"
    assert seeds.backend_effect(0.0, {"jax": 0.30, "torch": 0.10}, n_test=60)["backend_mattered"] == "yes"
    runs = _runs({"m": [0.5, 0.6, 0.7]}) + _runs({"m": [0.9]}, backend="jax")
    row = aggregate.model_rows(runs, "torch", 0)[0]
    assert row["backend_spread"] == pytest.approx(0.4) and row["backend_mattered"] == "yes"
    assert "beyond noise for m" in aggregate.backend_words([row])


def _quiet():
    return Console(file=io.StringIO())


def test_hard_set_is_deterministic_with_years_and_movements(tmp_path):
    small = {"artists": 4, "per_artist": 5, "image_size": 32}
    for name in ("a", "b"):
        synth.synthesize(tmp_path / name, console=_quiet(), write=synth_hard.write_hard, **small)
    a, b = ((tmp_path / n / "manifest.csv").read_text() for n in "ab")
    assert a == b
    rows = read_manifest(tmp_path / "a")
    assert len(rows) == 20 and len({r["movement"] for r in rows}) == 4
    hands = {h.name: h for h in synth_hard.make_hands(4, 0)}
    assert all(hands[r["artist"]].first_year <= r["year"] <= hands[r["artist"]].last_year for r in rows)


def test_colour_histograms_name_the_default_artists_not_the_hard_ones(tmp_path):
    # 10 artists x 20 at 32 px: 160 train, 20 test images; chance 0.10. (The study set, 10 x 60 at
    # 128 px: 0.08 and 0.10, README; with few training images 5-NN finds the movement's brush a little.)
    kwargs = {"artists": 10, "per_artist": 20, "image_size": 32}
    synth.synthesize(tmp_path / "easy", console=_quiet(), **kwargs)
    synth.synthesize(tmp_path / "hard", console=_quiet(), write=synth_hard.write_hard, **kwargs)
    easy, hard = (colour_baseline.evaluate(tmp_path / n) for n in ("easy", "hard"))
    assert easy["nearest_mean"] == 1.0 and easy["knn5"] == 1.0 and easy["test"] == 20
    assert hard["nearest_mean"] <= 0.25 and hard["knn5"] <= 0.4  # measured 0.20 and 0.35


def test_synth_difficulty_flag(tmp_path):
    out = tmp_path / "hard"
    proc = run_cli(["-m", "data_tools", "synth", "--difficulty", "hard", "--out", str(out), "--artists", "4",
                    "--per-artist", "3", "--image-size", "16"])
    assert proc.returncode == 0, proc.stderr
    assert read_manifest(out)[0]["image_id"].startswith("h0-")  # the hard generator's ids
    bad = run_cli(["-m", "data_tools", "synth", "--difficulty", "extreme", "--out", str(out)])
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_seed_flag_mistakes_are_usage_errors():
    with pytest.raises(UsageError, match="--seeds must be >= 1"):
        cli_run(["compare", "--seeds", "0"])
    with pytest.raises(UsageError, match="none of --backends"):
        cli_run(["compare", "--backends", "torch", "--seeds-on", "jax"])
    with pytest.raises(UsageError, match="unknown mxnet"):
        cli_run(["compare", "--seeds-on", "mxnet"])


@pytest.mark.slow  # four training processes on JAX and torch: 224 s on 2 cores at load 3-4
def test_compare_two_backends_two_seeds_share_initial_weights(tiny_data, tmp_path):
    out = tmp_path / "compare"
    proc = run_cli(["-m", "zoo", "compare", "--models", "vit_tiny16", "--backends", "jax,torch", "--seeds", "2",
                    "--seeds-on", "all", "--data", str(tiny_data), "--image-size", "16", "--out", str(out),
                    "--no-agreement"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out / "leaderboard.csv", newline="") as f:
        rows = {r["backend"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"jax", "torch"} and all(r["seeds"] == "0 1" and r["artist_top1_std"] != "" for r in rows.values())
    weights = {json.loads((out / "cells" / f"vit_tiny16-{b}-s1" / "config.json").read_text())["recipe"]["weights"]
               for b in ("jax", "torch")}
    assert weights == {str(out / "init" / "vit_tiny16-s1.keras")}  # both backends start from one file
    text = (out / "leaderboard.md").read_text()
    assert "## Which model" in text and "## Which backend" in text and "Backend effect:" in text
    assert json.loads((out / "compare.json").read_text())["seeds"] == [0, 1]
