"""Splits, the manifest helpers, `stats`, and one-line CLI errors."""

import hashlib
import io
import random
import time
from collections import Counter

import numpy as np
import pytest
from PIL import Image, ImageEnhance
from rich.console import Console

from data_tools.labels import LabelSpace
from data_tools.manifest import (
    DataError,
    manifest_hash,
    read_manifest,
    write_manifest,
    write_rejected,
)
from data_tools.neardup import group_ids
from data_tools.split import assign_exact, assign_splits, parse_split, split_sizes
from data_tools.stats import dataset_warnings, print_stats
from data_tools.synth import candidates as synth_candidates
from data_tools.synth import synthesize
from tests.conftest import run_child
from tests.fixtures_data import image_bytes, read_csv, run_cli, write


def rows_for(counts: dict[str, int]) -> list[dict]:
    """Manifest-like rows: counts[artist] images per artist."""
    return [
        {"image_id": f"{a[:3]}{i:03d}", "artist": a, "sha1": f"{a}{i}"}
        for a, n in counts.items()
        for i in range(n)
    ]


def test_parse_split():
    assert parse_split("0.8,0.1,0.1") == (0.8, 0.1, 0.1)
    assert parse_split(" 0.7 , 0.15,0.15 ") == (0.7, 0.15, 0.15)
    assert parse_split("1,0,0") == (1.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "spec", ["0.8,0.2", "a,b,c", "0.5,0.5,0.5", "-0.1,0.6,0.5", "0,0.5,0.5", "nan,0,1", ""]
)
def test_parse_split_rejects(spec):
    with pytest.raises(DataError, match="bad --split"):
        parse_split(spec)


def test_split_sizes():
    f = (0.8, 0.1, 0.1)
    assert [split_sizes(n, f) for n in (1, 2, 3, 4, 10, 60)] == [
        (1, 0, 0),
        (1, 1, 0),
        (1, 1, 1),
        (2, 1, 1),
        (8, 1, 1),
        (48, 6, 6),
    ]
    assert split_sizes(4, (0.1, 0.45, 0.45)) == (1, 1, 2)  # train keeps one
    assert split_sizes(5, (1.0, 0.0, 0.0)) == (5, 0, 0)


def test_assign_splits_invariants_and_seeding():
    counts = {"Al": 1, "Bea": 2, "Ann": 3, "Bo": 4, "Cy": 5, "Di": 7, "Ed": 10, "Flo": 60}
    for seed in range(5):
        rows = rows_for(counts)
        assign_splits(rows, (0.8, 0.1, 0.1), seed=seed)
        per = Counter((r["artist"], r["split"]) for r in rows)
        for artist, n in counts.items():
            wanted = {s for s, k in zip(("train", "val", "test"), split_sizes(n, (0.8, 0.1, 0.1)), strict=True)
                      if k}  # fmt: skip
            assert {s for (a, s) in per if a == artist} == wanted, (seed, artist)
    rows = rows_for(counts)
    assign_splits(rows, (0.8, 0.1, 0.1), seed=0)
    first = {r["image_id"]: r["split"] for r in rows}
    shuffled = rows_for(counts)
    random.Random(5).shuffle(shuffled)
    assign_splits(shuffled, (0.8, 0.1, 0.1), seed=0)
    assert {r["image_id"]: r["split"] for r in shuffled} == first  # input order does not matter
    other = rows_for(counts)
    assign_splits(other, (0.8, 0.1, 0.1), seed=1)
    assert {r["image_id"]: r["split"] for r in other} != first


def test_splits_are_stable_when_an_artist_grows():
    old = rows_for({"Flo": 100, "Ed": 10})
    assign_splits(old, (0.8, 0.1, 0.1), seed=0)
    new = rows_for({"Flo": 150, "Ed": 10, "Newcomer": 40})
    random.Random(1).shuffle(new)
    assign_splits(new, (0.8, 0.1, 0.1), seed=0)
    after = {r["image_id"]: r["split"] for r in new}
    assert {r["image_id"]: after[r["image_id"]] for r in old} == {
        r["image_id"]: r["split"] for r in old
    }
    counts = Counter(r["split"] for r in new if r["artist"] == "Flo")
    assert 100 <= counts["train"] <= 140 and counts["val"] >= 5 and counts["test"] >= 5


def test_near_duplicate_grouping_scales():
    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 2**63, 20_000, dtype=np.int64).astype(np.uint64)
    hashes[1::100] = hashes[::100] ^ np.uint64(0b1011_0000_0111)  # 200 copies, 6 bits off
    hashes[2::1000] = hashes[::1000] ^ np.uint64(0x1FF << 20)  # 9 bits off: distinct
    start = time.perf_counter()
    groups = group_ids(hashes, ["one artist"] * len(hashes))
    seconds = time.perf_counter() - start
    assert (groups[1::100] == np.arange(0, 20_000, 100)).all()
    assert (groups[2::1000] == np.arange(2, 20_000, 1000)).all()
    assert len(set(groups.tolist())) == 20_000 - 200
    assert seconds < 20, f"{seconds:.1f} s for 20k hashes of one artist"
    other = group_ids(hashes[:2], ["a", "b"])  # other artists are never compared
    assert other.tolist() == [0, 1]


def test_near_duplicates_are_grouped_and_one_kept(tmp_path):
    """8 paintings per artist, each also resized, recompressed (q85, q60), brightened and
    cropped 2 % per side: the originals are kept, the copies name them in rejected.csv."""
    src = tmp_path / "src"
    edits = {  # name -> (edit, JPEG quality)
        "half": (lambda im: im.resize((im.width // 2, im.height // 2), Image.LANCZOS), 95),
        "q85": (lambda im: im, 85),
        "q60": (lambda im: im, 60),
        "bright": (lambda im: ImageEnhance.Brightness(im).enhance(1.1), 95),
        "crop": (lambda im: im.crop((3, 3, im.width - 3, im.height - 3)), 95),
    }
    originals = set()
    for c in synth_candidates(2, 8, 160, seed=3):
        image = c.read()
        name = f"{c.artist}/{c.image_id}"
        (src / c.artist).mkdir(parents=True, exist_ok=True)
        image.save(src / f"{name}.png")
        originals.add(f"src/{name}.png")
        for edit, (fn, quality) in edits.items():  # "_" sorts after ".": copies lose ties
            fn(image).save(src / f"{name}_{edit}.jpg", quality=quality)
    out = tmp_path / "out"
    proc = run_cli("ingest", "folder", src, "--out", out)
    assert proc.returncode == 0, proc.stderr
    kept = {r["source"] for r in read_manifest(out)}
    rejected = read_csv(out / "rejected.csv")
    assert {r["reason"] for r in rejected} == {"near duplicate"}
    assert originals <= kept and all(r["duplicate_of"] in originals for r in rejected)
    assert all(r["source"].startswith(r["duplicate_of"][:-4]) for r in rejected)
    missed = kept - originals
    assert all(s.endswith("_crop.jpg") for s in missed)  # re-encodes: all caught
    assert len(missed) <= 3, missed  # 2 % crops: ~93 % caught at 128-512 px (neardup.py)
    stats = run_cli("stats", out)
    assert f"near-duplicate groups: 16, one image kept of each, {len(rejected)} copies" in (
        stats.stdout
    )


def test_exact_quotas_for_the_synthetic_set():
    counts = {"Ann": 3, "Bo": 4, "Cy": 5, "Di": 7, "Ed": 10, "Flo": 60}
    rows = rows_for(counts)
    assign_exact(rows, (0.8, 0.1, 0.1), seed=0)
    per = Counter((r["artist"], r["split"]) for r in rows)
    for artist, n in counts.items():
        assert (per[(artist, "train")], per[(artist, "val")], per[(artist, "test")]) == split_sizes(
            n, (0.8, 0.1, 0.1)
        )
    first = {r["image_id"]: r["split"] for r in rows}

    shuffled = rows_for(counts)
    random.Random(5).shuffle(shuffled)
    assign_exact(shuffled, (0.8, 0.1, 0.1), seed=0)
    assert {r["image_id"]: r["split"] for r in shuffled} == first  # input order does not matter

    other = rows_for(counts)
    assign_exact(other, (0.8, 0.1, 0.1), seed=1)
    assert {r["image_id"]: r["split"] for r in other} != first


def test_synthetic_splits_have_no_shared_content(tmp_path):
    synthesize(
        tmp_path / "d", console=Console(file=io.StringIO()), artists=5, per_artist=6, image_size=32
    )
    rows = read_manifest(tmp_path / "d")
    by_sha1 = Counter(r["sha1"] for r in rows)
    assert set(by_sha1.values()) == {1}
    assert {(r["artist"], r["split"]) for r in rows} == {
        (a, s) for a in {r["artist"] for r in rows} for s in ("train", "val", "test")
    }


def manifest_rows(spec: dict[str, tuple[int, int, int]], year=1900, movement="M") -> list[dict]:
    """Rows with spec[artist] = (train, val, test) counts."""
    rows = []
    for artist, sizes in spec.items():
        for split, n in zip(("train", "val", "test"), sizes, strict=True):
            for i in range(n):
                image_id = f"{artist}-{split}-{i}"
                rows.append(
                    {
                        "image_id": image_id,
                        "path": f"images/x/{image_id}.jpg",
                        "artist": artist,
                        "year": None if year is None else year + 10 * i,
                        "movement": movement,
                        "split": split,
                        "sha1": hashlib.sha1(image_id.encode()).hexdigest(),
                        "source": image_id,
                    }
                )
    return rows


def test_manifest_round_trip_hash_and_label_info(tmp_path):
    rows = manifest_rows({"Zed": (2, 1, 1), "Amy": (3, 1, 1)})
    rows[0]["year"], rows[0]["movement"] = None, ""
    write_manifest(tmp_path, rows)
    write_rejected(tmp_path, [("a.jpg", "empty file")])
    back = read_manifest(tmp_path)
    assert [r["year"] for r in back] == [r["year"] for r in rows]
    assert back[0]["movement"] == "" and back[1]["artist"] == "Zed"
    assert (
        manifest_hash(tmp_path)
        == hashlib.sha256((tmp_path / "manifest.csv").read_bytes()).hexdigest()
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.csv", "rejected.csv"]
    labels = LabelSpace.from_rows(back)
    assert labels["artist"].classes == ("Amy", "Zed")
    assert "movement" not in labels  # one movement ("M") is nothing to learn
    train_years = [1910, 1900, 1910, 1920]  # Zed's first train year is unknown
    mean = labels["year"].center
    assert mean == pytest.approx(sum(train_years) / 4)
    assert labels["year"].scale == pytest.approx((sum((y - mean) ** 2 for y in train_years) / 4) ** 0.5)
    assert "year" not in LabelSpace.from_rows(manifest_rows({"A": (1, 1, 1), "B": (1, 1, 1)}, year=None))


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no manifest.csv"),
        ("", "missing column(s) image_id"),
        ("image_id,path,artist,year,movement,split,sha1,source\n", "no rows"),
        (
            "image_id,path,artist,year,movement,split,sha1,source\na,images/a.jpg,A,19x,,train,s,x\n",
            "line 2: year '19x' is not an integer",
        ),
        (
            "image_id,path,artist,year,movement,split,sha1,source\na,images/a.jpg,A,,,dev,s,x\n",
            "line 2: split 'dev' is not train/val/test",
        ),
        (
            "image_id,path,artist,year,movement,split,sha1,source\na,../a.jpg,A,,,train,s,x\n",
            "line 2: bad image path '../a.jpg'",
        ),
        (
            "image_id,path,artist,year,movement,split,sha1,source\na,images/a.jpg,A\n",
            "line 2: wrong number of fields",
        ),
    ],
)
def test_read_manifest_errors_name_the_file(tmp_path, content, message):
    if content is not None:
        (tmp_path / "manifest.csv").write_text(content)
    with pytest.raises(DataError) as err:
        read_manifest(tmp_path)
    assert str(err.value).startswith(str(tmp_path / "manifest.csv"))
    assert message in str(err.value)


def test_stats_tables_and_warnings(tmp_path):
    rows = manifest_rows({"Big Artist": (16, 2, 2), "Small One": (3, 1, 0), "葛飾北斎": (4, 1, 1)})
    write_manifest(tmp_path, rows)
    proc = run_cli("stats", tmp_path)
    assert proc.returncode == 0, proc.stderr
    for word in ("Big Artist", "Small One", "葛飾北斎", "1900s", "█", "Movements"):
        assert word in proc.stdout
    assert (
        "warning: imbalance: 'Big Artist' has 20 images, 'Small One' only 4 (5.0x)" in proc.stdout
    )
    assert "warning: artist 'Small One' has no images in test" in proc.stdout
    console = Console(file=io.StringIO(), width=200)
    assert len(print_stats(tmp_path, console)) == 2


def test_balanced_dataset_has_no_warnings():
    assert dataset_warnings(manifest_rows({"A": (8, 1, 1), "B": (5, 1, 1)})) == []


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "error: python -m data_tools: the following arguments are required: COMMAND"),
        (
            ["frobnicate"],
            "error: python -m data_tools: argument COMMAND: invalid choice: 'frobnicate'",
        ),
        (
            ["synth"],
            "error: python -m data_tools synth: the following arguments are required: --out",
        ),
        (
            ["ingest", "bogus", "{src}", "--out", "{out}"],
            "error: python -m data_tools ingest: argument kind: invalid choice: 'bogus'",
        ),
        (
            ["ingest", "art500k", "{tmp}/nope", "--out", "{out}"],
            "error: art500k: {tmp}/nope does not exist",
        ),
        (
            ["ingest", "wikiart", "{src}/A/a.jpg", "--out", "{out}"],
            "error: wikiart: {src}/A/a.jpg is neither a folder nor a .zip archive",
        ),
        (
            ["ingest", "folder", "{src}", "--out", "{out}", "--split", "0.5,0.5"],
            "error: bad --split '0.5,0.5': need 3 non-negative numbers summing to 1",
        ),
        (
            ["ingest", "folder", "{src}", "--out", "{src}/inside"],
            "error: folder: --out {src}/inside must not be inside the source folder {src}",
        ),
        (
            ["ingest", "folder", "{src}", "--out", "{out}", "--min-per-artist", "5"],
            "error: folder: no usable images (1 too few images for artist)",
        ),
        (
            ["ingest", "folder", "{src}", "--out", "{out}", "--top-artists", "-1"],
            "argument --top-artists: '-1' must not be negative",
        ),
        (["synth", "--out", "{out}", "--split", "1,1,1"], "error: bad --split '1,1,1'"),
        (["stats", "{src}"], "error: {src}/manifest.csv: no manifest.csv"),
    ],
)
def test_cli_errors_are_one_line(tmp_path, args, message):
    src = tmp_path / "src"
    write(src / "A" / "a.jpg", image_bytes(1))
    fill = {"src": src, "out": tmp_path / "out", "tmp": tmp_path}
    proc = run_cli(*(a.format(**fill) for a in args))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")
    assert message.format(**fill) in proc.stderr
    assert not (tmp_path / "out").exists() and not (src / "inside").exists()


def test_package_import_is_light():
    got = run_child("jax", "data:light_imports")
    assert [got["same_max_pixels"], got["tensorflow"], got["keras"]] == [True, False, False], got


def test_stats_prints_the_full_manifest_hash_and_counts_in_words(tmp_path):
    write_manifest(tmp_path, manifest_rows({"A": (3, 1, 1), "B": (1, 0, 0)}))
    console = Console(file=io.StringIO(), width=60)
    print_stats(tmp_path, console)
    out = console.file.getvalue()
    assert manifest_hash(tmp_path) in out  # all 64 hex digits, as config.json records them
    assert "6 images, 2 artists" in out


def test_counts_are_pluralised():
    from data_tools.build import BuildResult, summary_table
    from data_tools.plural import plural

    assert [plural(1, "epoch"), plural(2, "epoch"), plural(0.5, "epoch"), plural(1, "copy", "copies"),
            plural(3, "copy", "copies")] == ["1 epoch", "2 epochs", "0.5 epochs", "1 copy", "3 copies"]
    console = Console(file=io.StringIO(), width=80)
    console.print(summary_table(BuildResult(kept=3, artists=1), "t"))
    assert "kept (1 artist)" in console.file.getvalue()


def test_parallel_cleaning_keeps_input_order_and_outcomes():
    """`clean.cleaned` with 2 worker processes answers exactly like 1, in input order, for a
    stream (no len) mixing good images, damaged bytes and a row without an artist."""
    from data_tools import clean
    from data_tools.build import Candidate
    from tests.fixtures_data import truncated_jpeg

    def make():
        for i in range(70):
            data = truncated_jpeg(i) if i % 9 == 4 else image_bytes(i, size=(24, 20))
            yield Candidate(f"s{i:02d}", f"i{i}", "" if i == 7 else "a", None, "", lambda d=data: d)

    runs = [[(c.source, o if isinstance(o, str) else (o[0], o[1])) for c, o in
             clean.cleaned(make(), max_side=16, max_pixels=10**6, fingerprint=True, workers=w)] for w in (1, 2)]
    assert runs[0] == runs[1] and [s for s, _ in runs[0]] == [f"s{i:02d}" for i in range(70)]
    outcomes = dict(runs[0])
    assert outcomes["s07"] == "no artist" and outcomes["s04"] == "damaged image"
    assert isinstance(outcomes["s00"][0], bytes) and Image.open(io.BytesIO(outcomes["s00"][0])).size == (16, 13)


def test_published_split_is_kept_and_val_carved_from_train():
    from data_tools.split import assign_published

    rows = [{"image_id": f"i{i}", "artist": "ab"[i % 2], "_published": "test" if i < 10 else "train"}
            for i in range(60)]
    assign_published(rows, 0.1, seed=0)
    assert all(r["split"] == "test" for r in rows[:10])
    train = Counter(r["split"] for r in rows[10:])
    assert set(train) == {"train", "val"} and 2 <= train["val"] <= 12
    again = [dict(r, split=None) for r in rows]
    assign_published(again, 0.1, seed=0)
    assert [r["split"] for r in again] == [r["split"] for r in rows]  # stable
