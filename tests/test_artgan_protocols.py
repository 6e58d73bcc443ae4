"""ArtGAN's three published splits (`ingest wikiart --protocol artgan-artist|genre|style`):
one task's lists define the rows and train/test, the others only label; a row without an
artist keeps an empty (masked) artist through the manifest, labels, stats, split, sampler
and metrics (the balanced sampler: tests/test_pipeline.py)."""

import json
from collections import Counter

import numpy as np
import pytest

from data_tools.labels import LabelSpace
from data_tools.manifest import DataError, read_manifest
from tests.fixtures_data import ARTGAN_LISTS, read_csv, run_cli, write_artgan

MONET, COURBET = "Claude Monet", "Gustave Courbet"


def ingest(tmp_path, *flags):
    """`ingest wikiart` of the ArtGAN fixture with `flags`; (out folder, rejected set)."""
    src = write_artgan(tmp_path / "src")
    out = tmp_path / "out"
    proc = run_cli("ingest", "wikiart", src, "--out", out, "--max-side", "32", *flags)
    assert proc.returncode == 0, proc.stderr
    rejected = {(r["source"].rsplit("/", 1)[-1], r["reason"]) for r in read_csv(out / "rejected.csv")}
    return out, rejected


def listed(task: str, part: str) -> set[str]:
    """Image ids in a task's train or val list."""
    return {p.rsplit("/", 1)[-1][:-4] for p in ARTGAN_LISTS[task][part]}


def test_genre_protocol_rows_splits_and_labels(tmp_path):
    out, rejected = ingest(tmp_path, "--protocol", "artgan-genre")
    assert rejected == {("claude-monet_d-1903.jpg", "no genre"), ("georges-braque_s-1910.jpg", "no genre"),
                        ("stray-1800.jpg", "no genre")}
    rows = {r["image_id"]: r for r in read_manifest(out)}
    assert set(rows) == listed("genre", "train") | listed("genre", "val")  # the genre lists' rows
    assert {k for k, r in rows.items() if r["split"] == "test"} == listed("genre", "val")
    assert rows["claude-monet_c-1902"]["split"] == "test"  # artist train, genre val: genre's split wins
    assert {r["split"] for k, r in rows.items() if k in listed("genre", "train")} == {"train", "val"}
    assert {k: r["artist"] for k, r in rows.items() if k.startswith("anonymous")} == dict.fromkeys(
        ("anonymous_x-1650", "anonymous_y-1651", "anonymous_z-1652"), "")  # in no artist list: masked
    assert all(r["path"].startswith("images/_no-artist/") for r in rows.values() if not r["artist"])
    assert Counter(r["artist"] for r in rows.values()) == {MONET: 3, COURBET: 3, "": 3}
    assert Counter(r["genre"] for r in rows.values()) == {"landscape": 4, "portrait": 5}
    assert rows["claude-monet_c-1902"]["movement"] == "" and rows["anonymous_x-1650"]["movement"] == "Baroque"
    record = json.loads((out / "protocol.json").read_text())
    assert record["protocol"] == "artgan-genre" and record["task"] == "genre" and record["published"]
    space = LabelSpace.from_rows(list(rows.values()))
    assert space.names == ("artist", "movement", "year", "genre") and space["artist"].classes == (MONET, COURBET)
    codes = space.encode(list(rows.values()))
    assert sorted(codes["artist"].tolist()) == [-1] * 3 + [0] * 3 + [1] * 3 and (codes["genre"] >= 0).all()
    stats = run_cli("stats", out)
    assert stats.returncode == 0, stats.stderr
    assert "9 images, 2 artists" in stats.stdout and "no artist: 3 images" in stats.stdout
    assert "(no artist)" in stats.stdout and "artgan-genre" in stats.stdout


def test_artist_and_style_protocols_on_the_same_lists(tmp_path):
    out, rejected = ingest(tmp_path)  # artgan-artist is the default
    assert {r for r in rejected if r[1] == "no artist"} == {
        (f"{k}.jpg", "no artist") for k in ("anonymous_x-1650", "anonymous_y-1651", "anonymous_z-1652",
                                            "georges-braque_s-1910", "stray-1800")}
    rows = {r["image_id"]: r for r in read_manifest(out)}
    assert set(rows) == listed("artist", "train") | listed("artist", "val") and all(r["artist"] for r in rows.values())
    assert {k for k, r in rows.items() if r["split"] == "test"} == listed("artist", "val")
    assert rows["claude-monet_d-1903"]["genre"] == "" and rows["claude-monet_c-1902"]["genre"] == "landscape"
    assert json.loads((out / "protocol.json").read_text())["task"] == "artist"
    style, rejected = ingest(tmp_path / "s", "--protocol", "artgan-style")
    assert {r for r in rejected if r[1] == "no style"} == {
        ("claude-monet_c-1902.jpg", "no style"), ("gustave-courbet_b-1851.jpg", "no style"),
        ("stray-1800.jpg", "no style")}
    rows = {r["image_id"]: r for r in read_manifest(style)}
    assert {k for k, r in rows.items() if r["split"] == "test"} == listed("style", "val")
    assert all(r["movement"] for r in rows.values()) and rows["georges-braque_s-1910"]["artist"] == ""
    assert Counter(r["movement"] for r in rows.values()) == {"Impressionism": 3, "Realism": 2, "Baroque": 3, "Cubism": 1}


def test_stable_split_of_a_genre_protocol_needs_an_artist(tmp_path):
    """--split stable is the zoo's own split, per artist: rows without one are rejected."""
    out, rejected = ingest(tmp_path, "--protocol", "artgan-genre", "--split", "stable", "--top-artists", "0")
    assert {r for r in rejected if r[1] == "no artist"} == {
        (f"anonymous_{x}.jpg", "no artist") for x in ("x-1650", "y-1651", "z-1652")}
    rows = read_manifest(out)
    assert len(rows) == 6 and all(r["artist"] for r in rows)
    assert json.loads((out / "protocol.json").read_text())["protocol"] == "stable"


def test_protocol_flag_errors(tmp_path):
    (tmp_path / "a").mkdir()
    proc = run_cli("ingest", "folder", tmp_path / "a", "--out", tmp_path / "o", "--protocol", "artgan-genre")
    assert proc.returncode == 2 and proc.stderr.strip() == "error: --protocol is for 'ingest wikiart' only"
    src = write_artgan(tmp_path / "src")
    for f in src.glob("wikiart_csv/genre_*"):
        f.unlink()
    proc = run_cli("ingest", "wikiart", src, "--out", tmp_path / "o", "--protocol", "artgan-genre")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: wikiart: no genre_*.csv list found under {src}"


def test_cli_protocols_match_the_source():
    from data_tools.cli import ingest as cli
    from data_tools.ingest import wikiart

    assert cli.PROTOCOLS == tuple(wikiart.PROTOCOLS)  # the CLI's copy (no heavy import for --help)


def test_empty_artist_is_an_error_unless_the_protocol_allows_it(tmp_path):
    from data_tools import protocol
    from tests.fixtures_data import write_dataset

    rows = [{"artist": "ab"[i % 2] if i else "", "year": "", "movement": "",
             "split": "train"} for i in range(4)]
    write_dataset(tmp_path, rows)
    with pytest.raises(DataError, match="line 2: empty artist"):
        read_manifest(tmp_path)
    protocol.write(tmp_path, protocol.published("artgan-genre", 0.1, 0, None, "genre"))
    assert [r["artist"] for r in read_manifest(tmp_path)] == ["", "b", "a", "b"]
    protocol.write(tmp_path, protocol.published("artgan-artist", 0.1, 0, None))
    with pytest.raises(DataError, match="empty artist"):
        read_manifest(tmp_path)


def test_published_val_carve_is_stratified_by_the_protocol_task():
    from data_tools.split import assign_published

    rows = [{"image_id": f"r{i}", "artist": "", "genre": "gp"[i % 2], "_published": "train"} for i in range(6)]
    rows.append({"image_id": "t", "artist": "", "genre": "g", "_published": "test"})
    assign_published(rows, 0.1, 0, by="genre")
    assert Counter((r["genre"], r["split"]) for r in rows) == {
        ("g", "train"): 2, ("g", "val"): 1, ("p", "train"): 2, ("p", "val"): 1, ("g", "test"): 1}


def test_artist_metrics_count_only_rows_with_an_artist():
    from zoo.training.evaluation import compute_metrics

    space = LabelSpace.from_tasks({"artist": ["a", "b"], "genre": ["g", "p"]})
    eye = np.eye(2, dtype=np.float32)
    preds = {"artist": eye[[0, 1, 1, 0]], "genre": eye[[0, 1, 1, 0]]}
    targets = {"artist": np.stack([eye[0], eye[1], np.zeros(2), np.zeros(2)]), "genre": eye[[0, 1, 0, 0]]}
    weights = {"artist": np.array([1, 1, 0, 0], np.float32), "genre": np.ones(4, np.float32)}
    metrics = compute_metrics(preds, targets, weights, space)
    assert metrics["artist_top1"] == 1.0 and metrics["n_images_with_artist"] == 2 and metrics["n_images"] == 4
    assert metrics["genre_top1"] == 0.75 and metrics["per_artist_accuracy"] == {"a": 1.0, "b": 1.0}


@pytest.mark.slow  # an ingest, a torch training run: about 1.5 minutes on the shared 2-core machine
def test_train_on_the_genre_protocol(tmp_path):
    """A run on artgan-genre trains a genre head on every genre row (those without an artist
    too); config.json and metrics.json name the protocol; artist metrics skip rows without one."""
    from tests.conftest import run_cli as run_python
    from tests.test_label_columns import TINY

    out, _ = ingest(tmp_path, "--protocol", "artgan-genre")
    run = tmp_path / "run"
    proc = run_python(["-m", "zoo", "train", "--backend", "torch", "--data", str(out), "--out", str(run), *TINY,
                       "--epochs", "1"], backend="torch")
    assert proc.returncode == 0, proc.stderr[-3000:]
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["protocol"]["protocol"] == "artgan-genre"
    assert [t["name"] for t in config["labels"]["tasks"]] == ["artist", "movement", "year", "genre"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["protocol"] == "artgan-genre" and metrics["n_images"] == 3
    assert metrics["n_images_with_artist"] == 2 and 0 <= metrics["genre_top1"] <= 1
    assert (run / "confusion_genre.png").is_file()
