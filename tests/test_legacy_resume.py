"""A run folder written before the restructure (tests/fixtures/legacy_a31ce08, made by its
MADE_BY.py: `legacy_tiny` on torch, 1 epoch) resumes with `--epochs 2`."""

import csv
import json
import math
import shutil

from tests.conftest import ROOT, run_child

FIXTURE = ROOT / "tests" / "fixtures" / "legacy_a31ce08"


def test_legacy_run_folder_resumes_to_more_epochs(tmp_path):
    run, data = tmp_path / "run", tmp_path / "data"
    shutil.copytree(FIXTURE / "run", run)
    shutil.copytree(FIXTURE / "data", data)
    before = json.loads((run / "checkpoints" / "state.json").read_text())
    out = run_child("torch", "legacy_resume:resume", run=str(run), data=str(data), epochs=2)
    assert out["code"] == 0 and out["model"] == "ArtistModel"  # the old checkpoint adopted
    with open(run / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[0]["val_loss"]) == before["history"][0]["val_loss"]  # epoch 1 kept as recorded
    assert rows[1]["val_loss"] != rows[0]["val_loss"]
    config = json.loads((run / "config.json").read_text())
    assert config["recipe"]["epochs"] == 2 and config["resumed"] == [{"at_epoch": 1, "epochs": 2}]
    assert json.loads((run / "checkpoints" / "state.json").read_text())["epoch"] == 2
    # The optimizer's state came with the old checkpoint: its update count runs on.
    with open(data / "manifest.csv") as f:
        n_train = sum(r["split"] == "train" for r in csv.DictReader(f))
    assert out["iterations"] == 2 * math.ceil(n_train / config["recipe"]["batch_size"])
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["backend"] == "torch" and metrics["artist_top1"] is not None
