"""`ingest wikiart` (ArtGAN layout, folder or zip) and `ingest folder` (artist subfolders)."""

import json
from collections import Counter
from pathlib import Path

import pytest

from data_tools.ingest.wikiart import year_from_name
from tests.fixtures_data import (
    HTML,
    image_bytes,
    read_csv,
    run_cli,
    truncated_jpeg,
    write,
    write_zip,
)

WIKI_FILES = {
    "Impressionism/claude-monet_water-lilies-1916.jpg": image_bytes(1),
    "Impressionism/claude-monet_haystacks-1891.jpg": image_bytes(2),
    "Impressionism/claude-monet_poplars.jpg": image_bytes(3),
    "Impressionism/claude-monet_bridge_1899.png": image_bytes(4, fmt="PNG"),
    "Abstract_Expressionism/mark-rothko_no-1-1949.jpg": image_bytes(5),
    "Abstract_Expressionism/mark-rothko_no-2-1950.jpg": image_bytes(6, mode="L"),
    "Abstract_Expressionism/mark-rothko_untitled-1951.jpg": image_bytes(7, mode="CMYK"),
    "Realism/gustave-courbet_a-1850.jpg": image_bytes(8),
    "Realism/gustave-courbet_b-1851.jpg": image_bytes(9),
    "Realism/gustave-courbet_broken-1852.jpg": truncated_jpeg(10),
    "Realism/unknown_unlisted-1850.jpg": image_bytes(11),
}
ARTIST_TRAIN = """(Path to image),, (Groundtruth class)
Impressionism/claude-monet_water-lilies-1916.jpg,,0
Impressionism/claude-monet_haystacks-1891.jpg,,0
Impressionism/claude-monet_poplars.jpg,,0
Abstract_Expressionism/mark-rothko_no-1-1949.jpg,,1
Abstract_Expressionism/mark-rothko_no-2-1950.jpg,,1
Realism/gustave-courbet_a-1850.jpg,,2
Realism/gustave-courbet_b-1851.jpg,,2
Impressionism/claude-monet_lost-1900.jpg,,0
"""
ARTIST_VAL = """Impressionism/claude-monet_bridge_1899.png,0
Abstract_Expressionism/mark-rothko_untitled-1951.jpg,,1
Realism/gustave-courbet_broken-1852.jpg,,2
"""
CLASSES = "0 Claude_Monet\n1 Mark_Rothko\n2 Gustave_Courbet\n"
STYLE_TRAIN = "Impressionism/claude-monet_water-lilies-1916.jpg,12\n"


def make_wikiart(root: Path, as_zip: bool) -> Path:
    """ArtGAN-style WikiArt as a folder (csv files beside the style folders) or one zip."""
    meta = {
        "wikiart_csv/artist_train.csv": ARTIST_TRAIN.encode(),
        "wikiart_csv/artist_val.csv": ARTIST_VAL.encode(),
        "wikiart_csv/artist_class.txt": CLASSES.encode(),
        "wikiart_csv/style_train.csv": STYLE_TRAIN.encode(),
    }
    members = {**{f"wikiart/{k}": v for k, v in WIKI_FILES.items()}, **meta}
    if as_zip:
        return write_zip(root / "wikiart.zip", members)
    for rel, data in members.items():
        write(root / "wikiart_src" / rel, data)
    return root / "wikiart_src"


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_wikiart(tmp_path, as_zip):
    src = make_wikiart(tmp_path, as_zip)
    out = tmp_path / "out"
    proc = run_cli("ingest", "wikiart", src, "--out", out, "--max-side", "64", "--split", "stable")
    assert proc.returncode == 0, proc.stderr
    prefix = "wikiart.zip:wikiart/" if as_zip else "wikiart_src/wikiart/"
    rejected = {(r["source"], r["reason"]) for r in read_csv(out / "rejected.csv")}
    assert rejected == {
        (prefix + "Realism/unknown_unlisted-1850.jpg", "no artist"),
        (prefix + "Realism/gustave-courbet_broken-1852.jpg", "damaged image"),
        (prefix + "Realism/gustave-courbet_a-1850.jpg", "too few images for artist"),
        (prefix + "Realism/gustave-courbet_b-1851.jpg", "too few images for artist"),
        ("Impressionism/claude-monet_lost-1900.jpg", "missing file"),
    }
    rows = read_csv(out / "manifest.csv")
    assert Counter(r["artist"] for r in rows) == {"Claude Monet": 4, "Mark Rothko": 3}
    got = {r["image_id"]: (r["year"], r["movement"]) for r in rows}
    assert got == {
        "claude-monet_water-lilies-1916": ("1916", "Impressionism"),
        "claude-monet_haystacks-1891": ("1891", "Impressionism"),
        "claude-monet_poplars": ("", "Impressionism"),
        "claude-monet_bridge_1899": ("1899", "Impressionism"),
        "mark-rothko_no-1-1949": ("1949", "Abstract Expressionism"),
        "mark-rothko_no-2-1950": ("1950", "Abstract Expressionism"),
        "mark-rothko_untitled-1951": ("1951", "Abstract Expressionism"),
    }
    assert {r["split"] for r in rows if r["artist"] == "Mark Rothko"} == {"train", "val", "test"}


GENRE_TRAIN = "Impressionism/claude-monet_water-lilies-1916.jpg 1\nRealism/gustave-courbet_a-1850.jpg,0\n"
GENRE_CLASSES = "0 genre_painting\n1 landscape\n"


def test_wikiart_published_split_is_kept(tmp_path):
    """By default ArtGAN's artist_train list is train (+ a stable val part), artist_val test;
    nothing is dropped for its artist's size or as a copy; genre lists label what they list."""
    src = make_wikiart(tmp_path, as_zip=False)
    meta = src / "wikiart_csv"
    write(meta / "genre_train.csv", GENRE_TRAIN.replace(" ", ",").encode())
    write(meta / "genre_class.txt", GENRE_CLASSES.encode())
    write(src / "wikiart" / "Impressionism" / "claude-monet_copy-1917.jpg", image_bytes(1))
    with open(meta / "artist_val.csv", "a") as fh:
        fh.write("Impressionism/claude-monet_copy-1917.jpg,0\n")  # an exact copy of a train image
    out = tmp_path / "out"
    proc = run_cli("ingest", "wikiart", src, "--out", out, "--max-side", "64")
    assert proc.returncode == 0, proc.stderr
    rows = {r["image_id"]: r for r in read_csv(out / "manifest.csv")}
    assert {r["split"] for k, r in rows.items() if "untitled" in k or "bridge" in k or "copy" in k} == {"test"}
    train = ("water-lilies-1916", "haystacks-1891", "poplars", "no-1-1949", "no-2-1950", "a-1850", "b-1851")
    assert {rows[k]["split"] for k in rows if k.split("_", 1)[1] in train} == {"train", "val"}
    assert Counter(r["artist"] for r in rows.values()) == {"Claude Monet": 5, "Mark Rothko": 3, "Gustave Courbet": 2}
    assert {k: r["genre"] for k, r in rows.items() if r["genre"]} == {
        "claude-monet_water-lilies-1916": "landscape", "gustave-courbet_a-1850": "genre painting"}
    record = json.loads((out / "protocol.json").read_text())
    assert record["protocol"] == "artgan-artist" and record["val_from_train"] == 0.1
    assert record["test_near_duplicates_in_train"] == 1  # the copy: counted, not removed
    stats = run_cli("stats", out)
    assert "artgan-artist" in stats.stdout and "1 test image has a near duplicate in train" in stats.stdout


def test_wikiart_year_from_name():
    assert year_from_name("claude-monet_water-lilies-1916") == 1916
    assert year_from_name("claude-monet_bridge_1899") == 1899
    assert year_from_name("claude-monet_poplars") is None
    assert year_from_name("some-title-0042") is None
    assert year_from_name("no-19160") is None


def test_wikiart_without_artist_lists_is_an_error(tmp_path):
    write(tmp_path / "w" / "Realism" / "x-1900.jpg", image_bytes(1))
    proc = run_cli("ingest", "wikiart", tmp_path / "w", "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert (
        proc.stderr.strip() == f"error: wikiart: no artist_*.csv list found under {tmp_path / 'w'}"
    )


def make_folder(root: Path) -> Path:
    """Artist subfolders at any depth, a stray root image, metadata.csv with both key styles."""
    src = root / "paintings"
    files = {
        "Claude Monet/a.jpg": image_bytes(1),
        "Claude Monet/b.png": image_bytes(2, mode="RGBA", fmt="PNG"),
        "Claude Monet/series/1890/c.jpg": image_bytes(3),
        "Claude Monet/series/1890/huge.jpg": image_bytes(4, size=(100, 100)),
        "Hokusai 北斎/wave.jpg": image_bytes(5),
        "Hokusai 北斎/fuji.gif": image_bytes(6, mode="P", fmt="GIF"),
        "Hokusai 北斎/deep/er/x.jpg": image_bytes(7, mode="L"),
        "Hokusai 北斎/same-as-wave.jpg": image_bytes(5),
        "Dürer/hase.jpg": image_bytes(8),
        "Dürer/empty.jpg": b"",
        "Dürer/page.jpg": HTML,
        "Dürer/melencolia.jpg": image_bytes(9, mode="CMYK"),
        "Dürer/self.jpg": image_bytes(10),
        "stray.jpg": image_bytes(11),
        "notes.txt": b"not an input file",
    }
    for rel, data in files.items():
        write(src / rel, data)
    metadata = (
        "file,year,movement,Genre,width_cm\n"  # any further column is one more label
        "Claude Monet/a.jpg,1872,Impressionism,landscape,92\n"
        "b.png,c. 1880,Impressionism,,\n"
        "wave.jpg,1831,Ukiyo-e,marina,37.5\n"
        "Dürer/hase.jpg,1502,,animal painting,\n"
    )
    write(src / "metadata.csv", metadata.encode())
    return src


def test_folder(tmp_path):
    src = make_folder(tmp_path)
    out = tmp_path / "out"
    proc = run_cli("ingest", "folder", src, "--out", out, "--max-pixels", "5000")
    assert proc.returncode == 0, proc.stderr
    rejected = {(r["source"], r["reason"]) for r in read_csv(out / "rejected.csv")}
    assert rejected == {
        ("paintings/stray.jpg", "no artist"),
        ("paintings/Dürer/empty.jpg", "empty file"),
        ("paintings/Dürer/page.jpg", "not an image"),
        ("paintings/Claude Monet/series/1890/huge.jpg", "too many pixels"),
        ("paintings/Hokusai 北斎/wave.jpg", "duplicate content"),  # same-as-wave.jpg sorts first
    }
    rows = read_csv(out / "manifest.csv")
    assert Counter(r["artist"] for r in rows) == {"Claude Monet": 3, "Hokusai 北斎": 3, "Dürer": 3}
    by_source = {r["source"].removeprefix("paintings/"): r for r in rows}
    assert (by_source["Claude Monet/a.jpg"]["year"], by_source["Claude Monet/b.png"]["year"]) == (
        "1872",
        "1880",
    )
    assert by_source["Claude Monet/b.png"]["movement"] == "Impressionism"
    assert by_source["Dürer/hase.jpg"]["year"] == "1502"
    assert by_source["Claude Monet/series/1890/c.jpg"]["year"] == ""
    assert by_source["Hokusai 北斎/deep/er/x.jpg"]["artist"] == "Hokusai 北斎"
    assert {k: (r["genre"], r["width_cm"]) for k, r in by_source.items() if r["genre"]} == {
        "Claude Monet/a.jpg": ("landscape", "92"), "Dürer/hase.jpg": ("animal painting", "")}
    assert all(
        r["path"].startswith(("images/claude-monet/", "images/hokusai-北斎/", "images/dürer/"))
        for r in rows
    )
    assert {(r["artist"], r["split"]) for r in rows} == {
        (a, s) for a in ("Claude Monet", "Hokusai 北斎", "Dürer") for s in ("train", "val", "test")
    }


def test_folder_ids_are_stable_across_runs(tmp_path):
    src = make_folder(tmp_path)
    for name in ("o1", "o2"):
        assert run_cli("ingest", "folder", src, "--out", tmp_path / name).returncode == 0
    assert (tmp_path / "o1" / "manifest.csv").read_bytes() == (
        tmp_path / "o2" / "manifest.csv"
    ).read_bytes()


def test_folder_keeps_all_artists_and_says_what_it_drops(tmp_path):
    src = tmp_path / "many"
    for a in range(52):
        for i in range(3):
            write(src / f"Artist {a:02d}" / f"{i}.jpg", image_bytes(1000 + 3 * a + i, size=(16, 16)))
    write(src / "metadata.csv", b"file,year,movement\nArtist 00/0.jpg,1900,\ngone.jpg,1901,\n")
    proc = run_cli("ingest", "folder", src, "--out", tmp_path / "all")
    assert proc.returncode == 0, proc.stderr
    assert len({r["artist"] for r in read_csv(tmp_path / "all" / "manifest.csv")}) == 52
    assert "notice: " in proc.stderr and "metadata.csv: 1 row(s) name no image file" in proc.stderr
    assert "'gone.jpg'" in proc.stderr and "artists with most images" not in proc.stderr
    proc = run_cli("ingest", "folder", src, "--out", tmp_path / "top", "--top-artists", "50")
    assert proc.returncode == 0, proc.stderr
    assert "kept the 50 artists with most images; 2 more artists (6 images) dropped" in proc.stderr


def test_folder_source_must_be_a_folder(tmp_path):
    archive = write_zip(tmp_path / "x.zip", {"A/a.jpg": image_bytes(1)})
    proc = run_cli("ingest", "folder", archive, "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: folder: {archive} is not a folder"
