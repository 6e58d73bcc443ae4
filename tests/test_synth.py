"""The synthetic dataset: determinism, the default dataset, and atomic output folders."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console

from data_tools.labels import LabelSpace
from data_tools.manifest import manifest_hash, read_manifest
from data_tools.synth import ensure_default_dataset, synthesize
from tests.fixtures_data import ROOT, run_cli

SMALL = {"artists": 4, "per_artist": 5, "image_size": 48}


def quiet() -> Console:
    """A console that prints nowhere."""
    return Console(file=io.StringIO())


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below a folder: relative path -> bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_same_seed_is_byte_identical_other_seed_differs(tmp_path):
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        synthesize(tmp_path / name, console=quiet(), seed=seed, **SMALL)
    a, b, c = (tree(tmp_path / n) for n in "abc")
    assert a == b
    assert len(a) == 4 * 5 + 3  # images, manifest, rejected, protocol
    assert a["manifest.csv"] != c["manifest.csv"]
    assert {r["sha1"] for r in read_manifest(tmp_path / "a")}.isdisjoint(
        r["sha1"] for r in read_manifest(tmp_path / "c")
    )


def test_genre_is_the_subject_of_the_composition(tmp_path):
    from data_tools.synth import GENRES, make_styles

    synthesize(tmp_path / "g", console=quiet(), artists=6, per_artist=3, image_size=32)  # genre by default
    rows = read_manifest(tmp_path / "g")
    subject = {s.name: GENRES[s.composition] for s in make_styles(6, 0)}
    assert all(r["genre"] == subject[r["artist"]] for r in rows)
    assert {r["genre"] for r in rows} == {"landscape", "portrait"}  # 6 artists: ranks 0 and 1
    assert LabelSpace.from_rows(rows).names == ("artist", "movement", "year", "genre")
    synthesize(tmp_path / "p", console=quiet(), genre=False, artists=6, per_artist=3, image_size=32)
    plain = read_manifest(tmp_path / "p")
    assert "genre" not in plain[0]
    same = tree(tmp_path / "g")  # genre is a label only: the same image bytes without it
    assert {k: v for k, v in tree(tmp_path / "p").items() if k.startswith("images/")} == {
        k: v for k, v in same.items() if k.startswith("images/")}


@pytest.fixture(scope="module")
def default_root(tmp_path_factory) -> Path:
    """The default dataset, built by two processes racing for the same folder."""
    base = tmp_path_factory.mktemp("default")
    root = base / "synthetic"
    child = [sys.executable, "-m", "tests.child", "data:default_dataset", json.dumps({"root": str(root)})]
    procs = [
        subprocess.Popen(
            child,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, stderr
        assert json.loads(stdout.strip().splitlines()[-1]) == str(root)
    assert [p.name for p in base.iterdir()] == ["synthetic"]  # no partial folder left behind
    return root


def test_default_dataset_content(default_root):
    rows = read_manifest(default_root)
    assert len(rows) == 600
    counts = Counter(r["artist"] for r in rows)
    assert len(counts) == 10 and set(counts.values()) == {60}
    assert all(r["year"] is not None and r["movement"] for r in rows)
    assert 3 <= len({r["movement"] for r in rows}) <= 4
    assert Counter(r["genre"] for r in rows) == {"landscape": 240, "portrait": 240, "still life": 120}
    assert LabelSpace.from_rows(rows).names == ("artist", "movement", "year", "genre")  # make train's 4 heads
    assert Counter(r["split"] for r in rows) == {"train": 480, "val": 60, "test": 60}
    assert len({r["sha1"] for r in rows}) == 600
    for artist in counts:  # years stay inside each artist's active range
        years = [r["year"] for r in rows if r["artist"] == artist]
        assert max(years) - min(years) <= 40


def test_default_dataset_is_reused(default_root):
    before = (default_root / "manifest.csv").stat().st_mtime_ns
    assert ensure_default_dataset(default_root) == default_root
    assert (default_root / "manifest.csv").stat().st_mtime_ns == before


def test_an_old_default_dataset_without_genre_is_rebuilt(tmp_path):
    """data/synthetic made before genre was the default (no genre column) is rebuilt."""
    root = tmp_path / "synthetic"
    synthesize(root, console=quiet(), genre=False, **SMALL)
    assert "genre" not in read_manifest(root)[0]
    assert ensure_default_dataset(root, console=quiet()) == root
    rows = read_manifest(root)
    assert len(rows) == 600 and {r["genre"] for r in rows} == {"landscape", "portrait", "still life"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synthetic"]  # nothing left aside


def test_cli_synth_matches_default_dataset(default_root, tmp_path):
    proc = run_cli("synth", "--out", tmp_path / "s", "--artists", "10", "--per-artist", "60")
    assert proc.returncode == 0, proc.stderr
    assert "600 images in" in proc.stdout
    assert manifest_hash(tmp_path / "s") == manifest_hash(default_root)
    assert tree(tmp_path / "s") == tree(default_root)


def test_existing_dataset_needs_overwrite(tmp_path):
    out = tmp_path / "ds"
    synthesize(out, console=quiet(), **SMALL)
    proc = run_cli("synth", "--out", out, "--artists", "4", "--per-artist", "5", "--seed", "3")
    assert proc.returncode == 2
    assert proc.stderr == f"error: {out} already holds a dataset; pass --overwrite to rebuild it\n"
    before = manifest_hash(out)
    proc = run_cli(
        "synth", "--out", out, "--artists", "4", "--per-artist", "5", "--seed", "3", "--overwrite"
    )
    assert proc.returncode == 0, proc.stderr
    assert manifest_hash(out) != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_foreign_folder_is_never_replaced(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    proc = run_cli("synth", "--out", tmp_path / "mine", "--overwrite")
    assert proc.returncode == 2 and "holds no manifest.csv" in proc.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def kill_midway(args: list, partial_glob: str, folder: Path) -> Path:
    """Start `python -m data_tools ARGS`, SIGKILL it once it has written 30 images."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "data_tools", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    partial = folder / partial_glob.format(pid=proc.pid)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            incoming = partial / ".incoming"
            if incoming.is_dir() and len(os.listdir(incoming)) >= 30:
                break
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    return partial


def test_killed_run_leaves_no_complete_looking_folder(tmp_path):
    out = tmp_path / "big"
    partial = kill_midway(
        ["synth", "--out", out, "--per-artist", "400"], "big.partial-{pid}", tmp_path
    )
    assert not (out / "manifest.csv").exists() and not out.exists()
    assert partial.is_dir() and not (partial / "manifest.csv").exists()
    synthesize(out, console=quiet(), **SMALL)  # the next run sweeps the dead run's folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big"]
    assert len(read_manifest(out)) == 20


def test_killed_overwrite_keeps_the_old_dataset(tmp_path):
    out = tmp_path / "ds"
    synthesize(out, console=quiet(), **SMALL)
    before, files = manifest_hash(out), tree(out)
    kill_midway(
        ["synth", "--out", out, "--per-artist", "400", "--overwrite"], "ds.partial-{pid}", tmp_path
    )
    assert manifest_hash(out) == before
    assert tree(out) == files


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--per-artist", "2"],
            "error: synth: --per-artist must be at least 3 (one image per split)",
        ),
        (["--image-size", "8"], "error: synth: --image-size must be between 16 and 2048"),
        (
            ["--artists", "x"],
            "error: python -m data_tools synth: argument --artists: 'x' is not an integer",
        ),
    ],
)
def test_synth_argument_errors(tmp_path, args, message):
    proc = run_cli("synth", "--out", tmp_path / "o", *args)
    assert (proc.returncode, proc.stderr, proc.stdout) == (2, message + "\n", "")
    assert not (tmp_path / "o").exists()
