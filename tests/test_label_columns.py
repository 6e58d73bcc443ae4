"""Every label the data carries: manifests with any number of label columns, one head per
labelled task, `--tasks`, loss weights for unnamed heads, and the run's split protocol."""

import csv
import json

import numpy as np
import pytest

from data_tools.labels import LabelSpace, label_columns
from data_tools.manifest import COLUMNS, read_manifest, write_manifest
from tests.conftest import run_cli, synth_data

TINY = ["--model", "vit_tiny16", "--image-size", "32", "--batch-size", "8", "--augment", "none"]


def rows(n=8):
    """Manifest rows with two extra label columns: a class one and a numeric one."""
    return [{"image_id": f"i{i}", "path": f"images/a/{i}.jpg", "artist": "ab"[i % 2], "year": 1900 + i,
             "movement": "", "split": ("train", "val", "test", "train")[i % 4], "sha1": "0" * 40,
             "source": f"s{i}", "genre": ("", "landscape", "portrait")[i % 3],
             "width_cm": "" if i == 3 else str(10 + i)} for i in range(n)]


def test_manifest_keeps_any_label_column_and_old_manifests_read(tmp_path):
    write_manifest(tmp_path, rows())
    with open(tmp_path / "manifest.csv") as fh:
        header = next(csv.reader(fh))
    assert header == [*COLUMNS, "genre", "width_cm"]
    got = read_manifest(tmp_path)
    assert [r["genre"] for r in got[:3]] == ["", "landscape", "portrait"] and got[0]["year"] == 1900
    assert label_columns(got) == {"artist": "class", "movement": "class", "year": "regression",
                                  "genre": "class", "width_cm": "regression"}
    space = LabelSpace.from_rows(got)
    assert space.names == ("artist", "year", "genre", "width_cm")  # one movement: nothing to learn
    codes = space.encode(got)
    assert codes["genre"].tolist() == [-1, 0, 1, -1, 0, 1, -1, 0]  # "" is a missing label
    assert np.isnan(codes["width_cm"][3]) and codes["width_cm"][4] == 14
    assert space.restricted(["genre", "artist"]).names == ("artist", "genre")
    for bad, message in ((["artist", "style"], "no task 'style'"), (["genre"], "must include 'artist'")):
        with pytest.raises(ValueError, match=message):
            space.restricted(bad)
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.csv").write_text(",".join(COLUMNS) + "\ni0,images/x.jpg,a,1900,,train," + "0" * 40 + ",s\n")
    assert label_columns(read_manifest(old)) == {"artist": "class", "movement": "class", "year": "regression"}


def test_recipe_loss_weights_and_tasks():
    import recipes

    recipe = recipes.Recipe(tasks="artist, genre")
    assert recipe.task_names() == ("artist", "genre") and recipes.Recipe().task_names() is None
    assert recipe.loss_weight("artist") == 1.0 and recipe.loss_weight("genre") == 0.5
    assert recipes.Recipe(default_loss_weight=2.0).loss_weight("style") == 2.0
    with pytest.raises(ValueError, match="--tasks"):
        recipes.Recipe(tasks="artist;genre")
    with pytest.raises(ValueError, match="loss_weights"):
        recipes.Recipe(loss_weights={"artist": -1})


def test_unknown_task_is_one_error_line_before_the_backend(tmp_path):
    write_manifest(tmp_path, rows())
    bad = run_cli(["-m", "zoo", "train", "--recipe", "quickstart", "--data", str(tmp_path), "--tasks", "artist,style",
                   *TINY], backend="torch")  # a named recipe: no registry entry (keras) to import
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 2 and len(lines) == 1, bad.stderr[-2000:]
    assert lines[0] == "error: --tasks: no task 'style' in the data (it labels artist, year, genre, width_cm)"


@pytest.mark.slow  # a torch training run and a predict: about 2 minutes on the shared 2-core machine
def test_train_with_a_genre_head_and_tasks(tmp_path):
    """synth (genre by default) -> a genre head with its metrics and confusion matrix, the protocol in
    config.json and metrics.json; --tasks artist,genre drops movement and year; predict shows
    genre."""
    data = synth_data(tmp_path / "data", 6, 6)
    run = tmp_path / "run"
    proc = run_cli(["-m", "zoo", "train", "--backend", "torch", "--data", str(data), "--out", str(run), *TINY,
                    "--epochs", "1", "--tasks", "artist,genre"], backend="torch")
    assert proc.returncode == 0, proc.stderr[-3000:]
    config = json.loads((run / "config.json").read_text())
    assert [t["name"] for t in config["labels"]["tasks"]] == ["artist", "genre"]
    assert config["data"]["protocol"]["protocol"] == "exact"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["protocol"] == "exact" and 0 <= metrics["genre_top1"] <= 1 and "year_mae" not in metrics
    assert (run / "confusion_genre.png").is_file() and (run / "confusion_matrix.png").is_file()
    image = next((data / "images").rglob("*.jpg"))
    out = run_cli(["-m", "zoo", "predict", str(run / "model.keras"), str(image), "--backend", "torch"], backend="torch")
    assert out.returncode == 0, out.stderr[-2000:]
    line = json.loads(out.stdout.strip().splitlines()[-1])
    assert line["genre"]["name"] in ("landscape", "portrait") and "movement" not in line
