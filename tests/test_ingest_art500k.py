"""`ingest art500k` on a small tree with every defect real downloads have."""

import hashlib
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from data_tools.ingest.art500k import image_id, img_key
from tests.fixtures_data import (
    HTML,
    bomb_png,
    image_bytes,
    read_csv,
    run_cli,
    truncated_jpeg,
    write,
    write_zip,
)

HEAD = [
    "author_name", "author_id", "painting_name", "painting_id", "Dimensions", "Genre",
    "Date", "Location", "Art Movement", "Style", "Series", "Media", "Museum", "Period",
    "Nationality", "Influenced by", "Influenced on", "Teachers", "Pupils",
    "Friends and Co-workers", "Tag", "Wikipedia", "Description", "Source", "Field", "Path",
]  # fmt: skip
MONET, DURER, HOKUSAI, GOGH = "Claude Monet", "Albrecht Dürer", "葛飾北斎", "Vincent van Gogh"


def label_row(artist, path, date="", movement="", style="", swap=False, sep="|", genre="", media="") -> str:
    """One label-list line with HEAD's 26 columns (Field and Path swapped if asked)."""
    values = dict.fromkeys(HEAD, "")
    values.update(
        {"author_name": artist, "Date": date, "Art Movement": movement, "Style": style, "Genre": genre,
         "Media": media},
        Field="painting",
        Path=path,
    )
    if swap:
        values["Field"], values["Path"] = values["Path"], values["Field"]
    return sep.join(values[name] for name in HEAD)


M_DIR, D_DIR, H_DIR = "Artists1/Claude Monet", "Artists1/Albrecht Dürer", "Artists1/葛飾北斎"
G_DIR = "Artists2/Vincent van Gogh"  # only in the subset zip


def image_files() -> dict[str, bytes]:
    """The folder's img/ tree: relative path -> file bytes, defects included."""
    m, d, h = M_DIR, D_DIR, H_DIR
    return {
        f"{m}/Seerosen##m1.jpg": image_bytes(1),
        "Art Movement/Impressionism/Seerosen##m1.jpg": image_bytes(2),  # same id, 2nd folder
        "Artists2/Claude Monet/Garden##m2.jpg": image_bytes(3),  # listed under Artists1
        f"{m}/Haystacks##m3.jpg": image_bytes(4),
        f"{m}/Zcopy##m7.jpg": image_bytes(4),  # identical content to m3
        f"{m}/Pond##m5.png": image_bytes(5, size=(600, 200), mode="RGBA", fmt="PNG"),
        f"{m}/Fog##m6.jpg": truncated_jpeg(6),
        f"{m}/Extra##m8.jpg": image_bytes(8),  # in no label row
        f"{d}/Hase##12.jpg": image_bytes(12),
        f"{d}/Melencolia##13.gif": image_bytes(13, mode="P", fmt="GIF"),
        f"{d}/Selbstbildnis##14.jpg": image_bytes(14, mode="CMYK"),
        f"{d}/Empty##15.jpg": b"",
        f"{d}/Page##16.jpg": HTML,
        "Medium/Oil/Hase##12.jpg": image_bytes(112),  # unlisted copy of id 12
        f"{h}/神奈川沖浪裏##h1.jpg": image_bytes(21, mode="L"),
        f"{h}/赤富士##h2.png": image_bytes(22, mode="LA", fmt="PNG"),
        f"{h}/Bomb##h3.png": bomb_png(),
        f"{h}/Wave##h4.jpg": image_bytes(24),
        f"{h}/Fuji##h5.jpg": image_bytes(25),
        "Artists1/Rare Painter/A##r1.jpg": image_bytes(31),
        "Artists1/Rare Painter/B##r2.jpg": image_bytes(32),
        **{f"Artists1/Zoe Minor/Z{i}##z{i}.jpg": image_bytes(40 + i) for i in (1, 2, 3)},
        "Artists1/Nobody/Anon##u1.jpg": image_bytes(51),
    }


def label_rows() -> list[str]:
    """label_list.csv's lines, in order (line 28 has no image path anywhere)."""
    m, d, h, g = M_DIR, D_DIR, H_DIR, G_DIR
    imp, ren, post = "Impressionism", "Northern Renaissance", "Post-Impressionism"
    return [
        label_row(MONET, f"{m}/Seerosen##m1.jpg", "1916", imp),
        label_row(MONET, "img/Art Movement/Impressionism/Seerosen##m1.jpg", "1916", imp),
        label_row(MONET, f"{m}/Garden##m2.jpg", "June 1890", imp, style="Impressionism", genre="landscape"),
        label_row(MONET, f"{m}/Haystacks##m3.jpg", "c. 1889", imp, swap=True),
        label_row(MONET, f"{m}/Lost##m4.jpg", "1900", imp),
        label_row(MONET, f"{m}/Pond##m5.png", "1880s", imp),
        label_row(MONET, f"{m}/Fog##m6.jpg", "1901", imp),
        label_row(MONET, f"{m}/Zcopy##m7.jpg", "1889", imp),
        label_row(DURER, f"{d}/Hase##12.jpg", "1502", ren),
        label_row(DURER, f"{d}/Melencolia##13.gif", "1503-1519", ren),
        label_row(DURER, f"{d}/Selbstbildnis##14.jpg", "unknown", ren),
        label_row(DURER, f"{d}/Empty##15.jpg", "1500", ren),
        label_row(DURER, f"{d}/Page##16.jpg", "1500", ren),
        label_row(HOKUSAI, f"{h}/神奈川沖浪裏##h1.jpg", "1831", style="Ukiyo-e", genre="marina", media="woodblock"),
        label_row(HOKUSAI, f"{h}/赤富士##h2.png", "19th century", style="Ukiyo-e"),
        label_row(HOKUSAI, f"{h}/Bomb##h3.png", "1830", style="Ukiyo-e"),
        label_row(HOKUSAI, f"{h}/Wave##h4.jpg", "", style="Ukiyo-e"),
        label_row(HOKUSAI, f"{h}/Fuji##h5.jpg", "1830-1832", style="Ukiyo-e"),
        label_row(GOGH, f"{g}/Sunflowers##v1.jpg", "1888", post),
        label_row(GOGH, f"img/{g}/Irises##v2.jpg", "1889", post),
        label_row(GOGH, f"{g}/Stars##v3.jpg", "1889", post),
        label_row("Rare Painter", "Artists1/Rare Painter/A##r1.jpg", "1700"),
        label_row("Rare Painter", "Artists1/Rare Painter/B##r2.jpg", "1701"),
        *(label_row("Zoe Minor", f"Artists1/Zoe Minor/Z{i}##z{i}.jpg", "1999") for i in (1, 2, 3)),
        label_row("", "Artists1/Nobody/Anon##u1.jpg", "1650"),
        label_row(MONET, "n/a", "1900", imp),  # line 28: no image path anywhere
    ]


def make_art500k(root: Path) -> tuple[Path, Path]:
    """An Art500k folder plus a subset zip; returns (folder, zip)."""
    ds = root / "art500k"
    for rel, data in image_files().items():
        write(ds / "img" / rel, data)
    write(ds / "label_list.csv", ("\n".join(label_rows()) + "\n").encode("utf-8"))
    write(ds / "head_info.csv", (repr(HEAD) + "\n").encode("utf-8"))
    archive = write_zip(
        root / "subset2.zip",
        {
            f"img/{G_DIR}/Sunflowers##v1.jpg": image_bytes(61),
            f"img/{G_DIR}/Irises##v2.jpg": image_bytes(62),
            f"img/{G_DIR}/Stars##v3.jpg": image_bytes(63),
            "../evil.jpg": image_bytes(64),
            "/abs.jpg": image_bytes(65),
        },
    )
    return ds, archive


A1 = "art500k/img/Artists1"
EXPECTED_REJECTED = {
    (f"{A1}/Claude Monet/Seerosen##m1.jpg", "duplicate id"),
    ("img/Artists1/Claude Monet/Lost##m4.jpg", "missing file"),
    (f"{A1}/Claude Monet/Fog##m6.jpg", "damaged image"),
    (f"{A1}/Claude Monet/Zcopy##m7.jpg", "duplicate content"),
    (f"{A1}/Claude Monet/Extra##m8.jpg", "not in label list"),
    (f"{A1}/Albrecht Dürer/Empty##15.jpg", "empty file"),
    (f"{A1}/Albrecht Dürer/Page##16.jpg", "not an image"),
    ("art500k/img/Medium/Oil/Hase##12.jpg", "duplicate id"),
    (f"{A1}/葛飾北斎/Bomb##h3.png", "too many pixels"),
    ("subset2.zip:../evil.jpg", "unsafe archive path"),
    ("subset2.zip:/abs.jpg", "unsafe archive path"),
    (f"{A1}/Rare Painter/A##r1.jpg", "too few images for artist"),
    (f"{A1}/Rare Painter/B##r2.jpg", "too few images for artist"),
    (f"{A1}/Zoe Minor/Z1##z1.jpg", "artist not in top N"),
    (f"{A1}/Zoe Minor/Z2##z2.jpg", "artist not in top N"),
    (f"{A1}/Zoe Minor/Z3##z3.jpg", "artist not in top N"),
    (f"{A1}/Nobody/Anon##u1.jpg", "no artist"),
    ("art500k/label_list.csv:28", "no image path"),
}
EXPECTED_YEARS = {
    "m1": 1916,
    "m2": 1890,
    "m3": 1889,
    "m5": 1885,
    "12": 1502,
    "13": 1511,
    "14": None,
    "h1": 1831,
    "h2": 1850,
    "h4": None,
    "h5": 1831,
    "v1": 1888,
    "v2": 1889,
    "v3": 1889,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The fixture tree and the CLI run that ingests it."""
    root = tmp_path_factory.mktemp("a5")
    folder, archive = make_art500k(root)
    out = root / "out"
    proc = run_cli(
        "ingest",
        "art500k",
        folder,
        archive,
        "--out",
        out,
        "--top-artists",
        "4",
        "--max-side",
        "100",
    )
    assert proc.returncode == 0, proc.stderr
    return root, out, proc


def test_rejections_are_exact(built):
    _, out, _ = built
    rejected = {(r["source"], r["reason"]) for r in read_csv(out / "rejected.csv")}
    assert rejected == EXPECTED_REJECTED


def test_kept_rows_labels_and_sources(built):
    _, out, _ = built
    rows = read_csv(out / "manifest.csv")
    assert list(rows[0]) == [
        "image_id",
        "path",
        "artist",
        "year",
        "movement",
        "split",
        "sha1",
        "source",
        "genre",  # the extra label columns, by name
        "medium",
        "style",
    ]
    assert Counter(r["artist"] for r in rows) == {MONET: 4, DURER: 3, HOKUSAI: 4, GOGH: 3}
    by_id = {r["image_id"]: r for r in rows}
    assert {k: (v["genre"], v["style"], v["medium"]) for k, v in by_id.items() if v["genre"]} == {
        "m2": ("landscape", "Impressionism", ""), "h1": ("marina", "Ukiyo-e", "woodblock")}
    assert {v["style"] for v in by_id.values()} == {"", "Impressionism", "Ukiyo-e"}
    assert {k: int(v["year"]) if v["year"] else None for k, v in by_id.items()} == EXPECTED_YEARS
    movements = {r["artist"]: r["movement"] for r in rows}
    assert movements == {
        MONET: "Impressionism",
        DURER: "Northern Renaissance",
        HOKUSAI: "Ukiyo-e",  # from Style: Art Movement is empty
        GOGH: "Post-Impressionism",
    }
    assert by_id["m1"]["source"] == "art500k/img/Art Movement/Impressionism/Seerosen##m1.jpg"
    assert by_id["m2"]["source"] == "art500k/img/Artists2/Claude Monet/Garden##m2.jpg"
    assert by_id["m3"]["source"] == f"{A1}/Claude Monet/Haystacks##m3.jpg"  # swapped columns
    assert by_id["h1"]["source"] == f"{A1}/葛飾北斎/神奈川沖浪裏##h1.jpg"
    assert by_id["v1"]["source"] == "subset2.zip:img/Artists2/Vincent van Gogh/Sunflowers##v1.jpg"


def test_images_are_rgb_jpegs_in_place(built):
    _, out, _ = built
    rows = read_csv(out / "manifest.csv")
    slugs = {MONET: "claude-monet", DURER: "albrecht-dürer", HOKUSAI: "葛飾北斎"}
    for row in rows:
        assert (
            row["path"]
            == f"images/{slugs.get(row['artist'], 'vincent-van-gogh')}/{row['image_id']}.jpg"
        )
        data = (out / row["path"]).read_bytes()
        assert hashlib.sha1(data).hexdigest() == row["sha1"]
        with Image.open(out / row["path"]) as image:
            assert (image.format, image.mode) == ("JPEG", "RGB")
            assert max(image.size) <= 100
    pond = next(r for r in rows if r["image_id"] == "m5")
    assert Image.open(out / pond["path"]).size == (100, 33)  # 600x200 shrunk, aspect kept
    assert len(list((out / "images").rglob("*.jpg"))) == len(rows)
    assert sorted(p.name for p in out.iterdir()) == ["images", "manifest.csv", "protocol.json", "rejected.csv"]


def test_every_artist_in_every_split_and_no_escape(built):
    root, out, _ = built
    rows = read_csv(out / "manifest.csv")
    assert {(r["artist"], r["split"]) for r in rows} == {
        (a, s) for a in (MONET, DURER, HOKUSAI, GOGH) for s in ("train", "val", "test")
    }
    names = {p.name for p in root.rglob("*")} | {p.name for p in root.parent.iterdir()}
    assert "evil.jpg" not in names and "abs.jpg" not in names


def test_summary_table_lists_reasons(built):
    _, _, proc = built
    for word in ("kept (4 artists)", "duplicate content", "unsafe archive path", "too many pixels"):
        assert word in proc.stdout


def test_tab_separated_list_comma_header_single_zip(tmp_path):
    """A whole dataset in one archive below a top folder, tab-separated, plain header."""
    rows = [label_row("Ann", f"Artists1/Ann/P{i}##a{i}.jpg", "1901", sep="\t") for i in range(4)]
    members = {f"Art500k/img/Artists1/Ann/P{i}##a{i}.jpg": image_bytes(i) for i in range(4)}
    members["Art500k/label_list.tsv"] = ("\n".join(rows) + "\n").encode()
    members["Art500k/head_info.csv"] = (",".join(HEAD) + "\n").encode()
    archive = write_zip(tmp_path / "all.zip", members)
    proc = run_cli("ingest", "art500k", archive, "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    rows = read_csv(tmp_path / "out" / "manifest.csv")
    assert sorted(r["image_id"] for r in rows) == ["a0", "a1", "a2", "a3"]
    assert {r["year"] for r in rows} == {"1901"}
    assert read_csv(tmp_path / "out" / "rejected.csv") == []
    with zipfile.ZipFile(archive) as z:  # the archive is read, never extracted
        assert len(z.namelist()) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.zip", "out"]


def test_path_helpers():
    assert img_key("img/Artists1/Dürer/Hase##12.jpg") == "Artists1/Dürer/Hase##12.jpg"
    assert img_key("/data/art500k/img/Medium/x.jpg") == "Medium/x.jpg"
    assert image_id("Artists1/a/Title##FAE4E-xDMeeRzA.jpg") == "FAE4E-xDMeeRzA"
    assert image_id("plain.jpg") == "plain"


def test_missing_label_list_is_one_line_error(tmp_path):
    write(tmp_path / "src" / "img" / "a" / "b##1.jpg", image_bytes(1))
    proc = run_cli("ingest", "art500k", tmp_path / "src", "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error: art500k: no label list (label_list.csv/.tsv/.txt) found under {tmp_path / 'src'}"
    )
    assert not (tmp_path / "out").exists()
