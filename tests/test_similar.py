"""`python -m zoo embed` / `similar`: pooled features and cosine search on the texture set."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.test_explain import texture_model  # noqa: F401  (the shared session fixture)


def make_embeddings(model: Path) -> Path:
    """`zoo embed` of the texture set into `model.parent / "embeddings.npz"` (cached)."""
    from zoo.cli import main  # in-process (JAX): the CLI's own entry point, no new interpreter

    out = model.parent / "embeddings.npz"
    if not out.is_file():
        assert main(["embed", str(model), "--data", str(model.parent / "data"), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def embeddings(texture_model):  # noqa: F811
    return make_embeddings(texture_model)


def test_embed_writes_one_vector_per_image_with_its_id(embeddings, texture_model):  # noqa: F811
    from data_tools.manifest import read_manifest

    with np.load(embeddings) as f:
        ids, features, model = f["ids"], f["features"], str(f["model"])
    rows = read_manifest(texture_model.parent / "data")
    assert list(ids) == [r["image_id"] for r in rows]
    assert features.shape == (len(rows), 64) and np.isfinite(features).all()
    assert model == texture_model.name  # relative to the .npz file: the folder may move (issue 23)
    # pooled features separate the textures: the nearest neighbour shares the artist
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    artists = np.array([r["artist"] for r in rows])
    assert np.mean(artists[sims.argmax(1)] == artists) > 0.9


def test_similar_cli_ranks_same_texture_first(embeddings, texture_model, capsys):  # noqa: F811
    from zoo.cli import main

    image = sorted((texture_model.parent / "data" / "images" / "vstripes").glob("*.png"))[-1]
    assert main(["similar", str(embeddings), str(image), "-k", "5", "--json"]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(results) == 5
    assert results[0]["image_id"] == image.stem and results[0]["similarity"] > 0.999
    assert [r["artist"] for r in results] == ["vstripes"] * 5
    sims = [r["similarity"] for r in results]
    assert sims == sorted(sims, reverse=True)


def test_similar_and_embed_mistakes_are_one_line(texture_model, tmp_path, capsys):  # noqa: F811
    from zoo.cli import main

    bad = tmp_path / "nope.npz"
    bad.write_bytes(b"not an npz")
    assert main(["similar", str(bad), "x.jpg"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.npz" in err and "zoo embed" in err, err
    assert main(["embed", str(texture_model), "--data", str(tmp_path), "--out", str(tmp_path / "e.npz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "manifest.csv" in err, err


def test_similar_follows_a_moved_run_folder(texture_model, tmp_path, capsys):  # noqa: F811
    """Issue 23: the .npz names its model relative to itself, and a `model.keras` beside
    the .npz stands in for a recorded path that is gone (files of older versions)."""
    from zoo.cli import main

    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(texture_model, run / "model.keras")
    data = texture_model.parent / "data"
    assert main(["embed", str(run / "model.keras"), "--data", str(data), "--out", str(run / "e.npz")]) == 0
    moved = run.rename(tmp_path / "moved")
    image = sorted((data / "images" / "vstripes").glob("*.png"))[-1]
    capsys.readouterr()
    assert main(["similar", str(moved / "e.npz"), str(image), "-k", "1", "--json"]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["image_id"] == image.stem
    with np.load(moved / "e.npz") as f:
        entries = dict(f)
    entries["model"] = np.array(str(tmp_path / "gone" / "model.keras"))  # an old absolute path
    np.savez(moved / "old.npz", **entries)
    assert main(["similar", str(moved / "old.npz"), str(image), "-k", "1", "--json"]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["image_id"] == image.stem
