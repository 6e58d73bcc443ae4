"""`ingest hf`: Hugging Face `datasets` data (parquet shards in huggan/wikiart's schema,
written by the `datasets` library's own writer; a save_to_disk folder; the local hub cache)."""

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from data_tools.ingest.hf import _value, display_name, parse_columns
from data_tools.usage import UsageError
from tests.fixtures_data import HTML, image_bytes, read_csv, run_cli, truncated_jpeg

ARTISTS = ["Unknown Artist", "vincent-van-gogh", "claude-monet", "leonardo-da-vinci"]
GENRES = ["landscape", "portrait", "still_life", "Unknown Genre"]
STYLES = ["Impressionism", "Post_Impressionism", "High_Renaissance"]


def huggan_features():
    """huggan/wikiart's features: an Image and three ClassLabels (names as on the hub)."""
    from datasets import ClassLabel, Features, Image

    return Features({"image": Image(), "artist": ClassLabel(names=ARTISTS),
                     "genre": ClassLabel(names=GENRES), "style": ClassLabel(names=STYLES)})


def huggan_rows():
    """(image bytes, artist, genre, style) ids: 4 per real artist, a broken image, an HTML
    page, an Unknown Artist row, an Unknown Genre row and an exact duplicate."""
    rows = []
    for a in (1, 2, 3):
        for k in range(4):
            rows.append((image_bytes(10 * a + k, size=(40, 32)), a, (a + k) % 3, a - 1))
    rows[1] = (rows[1][0], 1, 3, 1)  # Unknown Genre: the genre is missing, the row kept
    rows += [(truncated_jpeg(99), 1, 0, 0), (HTML, 2, 1, 0), (image_bytes(77), 0, 2, 1),
             (rows[4][0], 2, 0, 0)]
    return rows


def write_huggan(folder: Path, shards: int = 2, rows=None) -> Path:
    """`data/train-000NN-of-000MM.parquet` as on the hub, written by datasets' ParquetWriter."""
    from datasets.arrow_writer import ParquetWriter

    rows = huggan_rows() if rows is None else rows
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for s in range(shards):
        part = rows[s::shards]
        path = folder / "data" / f"train-{s:05d}-of-{shards:05d}.parquet"
        with ParquetWriter(features=huggan_features(), path=str(path)) as writer:
            writer.write_batch({"image": [{"bytes": r[0], "path": None} for r in part],
                                "artist": [r[1] for r in part], "genre": [r[2] for r in part],
                                "style": [r[3] for r in part]})
    return folder


def test_display_names_and_columns():
    from data_tools import ingest
    from data_tools.cli import ingest as cli

    assert cli.KINDS == ingest.KINDS  # the CLI's copy (no heavy import for --help)
    assert display_name("vincent-van-gogh") == "Vincent van Gogh"
    assert display_name("leonardo-da-vinci") == "Leonardo da Vinci"
    assert display_name("pierre-auguste-renoir") == "Pierre Auguste Renoir"
    assert parse_columns("artist=artistName, movement=style,year=completitionYear") == {
        "artist": "artistName", "movement": "style", "year": "completitionYear"}
    assert parse_columns(None) is None
    assert _value(["Baroque", "Rococo"], None, False) == "Baroque" and _value([], None, False) == ""
    assert _value([2], ["a", "b", "c_d"], False) == "c_d" and _value("Unknown", None, False) == ""
    for bad in ("movement=style", "artist", "artist=a,split=b", "Artist=a"):
        with pytest.raises(UsageError):
            parse_columns(bad)


def test_ingest_hf_parquet_shards(tmp_path):
    src = write_huggan(tmp_path / "wikiart")
    out = tmp_path / "out"
    proc = run_cli("ingest", "hf", src, "--out", out, "--max-side", "64", "--min-per-artist", "1")
    assert proc.returncode == 0, proc.stderr
    rejected = {(r["source"], r["reason"]) for r in read_csv(out / "rejected.csv")}
    # rows 12..15 (broken, HTML, Unknown Artist, duplicate) sit in shards 0, 1, 0, 1
    assert rejected == {("data/train-00000-of-00002.parquet:6", "damaged image"),
                        ("data/train-00001-of-00002.parquet:6", "not an image"),
                        ("data/train-00000-of-00002.parquet:7", "no artist"),
                        ("data/train-00001-of-00002.parquet:7", "duplicate content")}
    rows = read_csv(out / "manifest.csv")
    assert Counter(r["artist"] for r in rows) == {"Vincent van Gogh": 4, "Claude Monet": 4, "Leonardo da Vinci": 4}
    assert set(rows[0]) >= {"genre", "style", "movement", "year"}
    assert {r["style"] for r in rows} == {"Impressionism", "Post Impressionism", "High Renaissance"}
    assert Counter(r["genre"] for r in rows) == {"landscape": 4, "portrait": 4, "still life": 3, "": 1}
    assert {r["movement"] for r in rows} == {""} and {r["year"] for r in rows} == {""}
    assert (out / "protocol.json").is_file() and not list(tmp_path.glob("out.partial-*"))


def test_ingest_hf_options(tmp_path):
    """--columns, --unknown-as-class, --limit; a save_to_disk folder reads the same."""
    import datasets

    rows, hub = huggan_rows(), huggan_features()
    disk = tmp_path / "disk"
    features = datasets.Features({"picture": hub["image"], "painter": hub["artist"], "style": hub["style"]})
    datasets.Dataset.from_dict({"picture": [{"bytes": r[0], "path": None} for r in rows],
                                "painter": [r[1] for r in rows], "style": [r[3] for r in rows]},
                               features=features).save_to_disk(disk)
    out = tmp_path / "out"
    proc = run_cli("ingest", "hf", disk, "--out", out, "--columns", "artist=painter,movement=style",
                   "--unknown-as-class", "--limit", "15", "--min-per-artist", "1", "--max-side", "64")
    assert proc.returncode == 0, proc.stderr
    got = read_csv(out / "manifest.csv")
    assert Counter(r["artist"] for r in got)["Unknown Artist"] == 1 and len(got) == 13
    assert {r["movement"] for r in got} == {"Impressionism", "Post Impressionism", "High Renaissance"}
    assert "genre" not in got[0] and "style" not in got[0]


def test_ingest_hf_hub_cache_and_offline(tmp_path):
    """A hub name reads the local hub cache offline; one not cached is one error line."""
    cache = tmp_path / "hub"
    repo = cache / "datasets--huggan--wikiart"
    snapshot = repo / "snapshots" / ("a" * 40)
    write_huggan(snapshot, shards=1)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("a" * 40)
    env = {"HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        out = tmp_path / "out"
        proc = run_cli("ingest", "hf", "huggan/wikiart", "--out", out, "--min-per-artist", "1", "--max-side", "64")
        assert proc.returncode == 0, proc.stderr
        assert len(read_csv(out / "manifest.csv")) == 12
        proc = run_cli("ingest", "hf", "someone/not-cached", "--out", tmp_path / "o2")
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stderr.startswith("error: hf: someone/not-cached is not in the local hub cache")
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    shutil.rmtree(cache)


def painting_jpeg(seed: int, width: int = 1500) -> bytes:
    """A painting-like JPEG `width` px wide (4:5): smooth colour fields with brush-size noise,
    about the bytes per pixel of huggan/wikiart's scans (quality 90)."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    height = width * 5 // 4
    coarse = Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)).resize((width, height), Image.BICUBIC)
    grain = Image.fromarray(rng.integers(0, 256, (height // 6, width // 6, 3), dtype=np.uint8)).resize((width, height))
    buf = io.BytesIO()
    Image.blend(coarse, grain, 0.25).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def big_rows(n: int) -> list:
    """n rows of 1,500-px paintings by three artists (ids 1-3), as `write_huggan` takes them."""
    return [(painting_jpeg(i), 1 + i % 3, i % 3, i % 3) for i in range(n)]


@pytest.mark.slow  # about a minute: 2 x 48 images of 1,500 px
def test_ingest_throughput_1500px(tmp_path):
    """img/s of `ingest hf` on huggan/wikiart-sized images, with 1 and 2 workers (printed;
    the README's table). Every image is kept, shrunk to --max-side."""
    src = write_huggan(tmp_path / "big", shards=2, rows=big_rows(48))
    speeds = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        proc = run_cli("ingest", "hf", src, "--out", out, "--workers", workers, "--top-artists", "0")
        assert proc.returncode == 0, proc.stderr
        assert len(read_csv(out / "manifest.csv")) == 48
        speeds[workers] = float(proc.stdout.split(" img/s")[0].rsplit("(", 1)[1])
    print(f"ingest hf, 1,500-px JPEGs: {speeds} img/s by workers; load {os.getloadavg()}")
    assert min(speeds.values()) > 1


@pytest.mark.slow  # a subprocess killed midway, then a full run: about 30 s
def test_killed_ingest_restarts_cleanly(tmp_path):
    """SIGKILL during `ingest hf` leaves no output folder (only the dead run's .partial-PID,
    never a manifest); the next run removes it and completes."""
    from tests.test_synth import kill_midway

    src = write_huggan(tmp_path / "big", shards=2, rows=big_rows(80))
    out = tmp_path / "out"
    partial = kill_midway(["ingest", "hf", src, "--out", out, "--workers", "1"], "out.partial-{pid}", tmp_path)
    assert not out.exists() and not (partial / "manifest.csv").exists()
    proc = run_cli("ingest", "hf", src, "--out", out, "--top-artists", "0")
    assert proc.returncode == 0, proc.stderr
    assert len(read_csv(out / "manifest.csv")) == 80 and not partial.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big", "out"]
