"""`python -m zoo explain`: occlusion heatmaps localise the class evidence.

Also home of `texture_model`, the tiny trained model that test_serve.py and
test_similar.py share: 3 "artists" = 3 textures (horizontal stripes, vertical
stripes, checks) painted in ONE random quadrant of a flat-coloured 32 px canvas,
"movement" = warm/cool background, "year" per artist; a 3-conv CNN with the zoo's
multi-task head, 15 epochs on torch (~15 s). Torch children run with
OMP_NUM_THREADS=1: on the shared 2-core machine its thread pool otherwise runs ~20x slower.
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_child, run_cli

SIZE = 32
ARTISTS = ("hstripes", "vstripes", "checks")
YEARS = {"hstripes": 1800, "vstripes": 1850, "checks": 1900}


def texture(kind: str, side: int) -> np.ndarray:
    """A `(side, side)` 0/1 pattern with period 4 px."""
    r, c = np.mgrid[:side, :side]
    if kind == "hstripes":
        return (r // 2) % 2
    if kind == "vstripes":
        return (c // 2) % 2
    return ((r // 2) + (c // 2)) % 2


def texture_image(kind: str, quadrant: int, rng) -> tuple[np.ndarray, str]:
    """uint8 `(SIZE, SIZE, 3)`: flat warm or cool paint, `kind` texture in `quadrant`
    (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right); returns (image, movement)."""
    warm = bool(rng.integers(2))
    base = np.array([200, 120, 60] if warm else [60, 120, 200], float) + rng.normal(0, 12, 3)
    img = np.broadcast_to(np.clip(base, 0, 255), (SIZE, SIZE, 3)).copy()
    half = SIZE // 2
    r0, c0 = (quadrant // 2) * half, (quadrant % 2) * half
    pattern = texture(kind, half)[..., None]
    img[r0:r0 + half, c0:c0 + half] = np.where(pattern, 235.0, 20.0)
    return img.astype(np.uint8), ("warm" if warm else "cool")


def make_texture_set(root: Path, per_class: int = 48, seed: int = 0) -> list[dict]:
    """A dataset folder (manifest.csv + JPEGs) of texture images; returns the rows
    (with an extra "quadrant" key)."""
    from data_tools.manifest import write_manifest

    rng = np.random.default_rng(seed)
    rows = []
    for artist in ARTISTS:
        folder = root / "images" / artist
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            quadrant = int(rng.integers(4))
            img, movement = texture_image(artist, quadrant, rng)
            path = folder / f"{artist}-{i:03d}.png"  # PNG: exact pixels, no JPEG ringing
            Image.fromarray(img).save(path)
            split = "train" if i < per_class - 8 else ("val" if i < per_class - 4 else "test")
            rows.append({"image_id": f"{artist}-{i:03d}", "path": f"images/{artist}/{path.name}",
                         "artist": artist, "year": YEARS[artist], "movement": movement,
                         "split": split, "sha1": hashlib.sha1(path.read_bytes()).hexdigest(),
                         "source": "texture", "quadrant": quadrant})
    write_manifest(root, rows)
    (root / "quadrants.json").write_text(json.dumps({r["image_id"]: r["quadrant"] for r in rows}))
    return rows


def train_texture_model(root: Path, epochs: int = 15) -> Path:
    """Texture dataset in `root/data`, model in `root/model.keras` (torch; cached per folder)."""
    model = root / "model.keras"
    if not model.is_file():
        make_texture_set(root / "data")
        out = run_child("torch", "explain:train_texture", timeout=300, env={"OMP_NUM_THREADS": "1"},
                        root=str(root / "data"), artists=list(ARTISTS), epochs=epochs, model=str(model))
        assert out["train_acc"] > 0.9, out
    return model


@pytest.fixture(scope="session")
def texture_model(tmp_path_factory) -> Path:
    """Path of the shared tiny trained model; its dataset is `model.parent / "data"`."""
    return train_texture_model(tmp_path_factory.getbasetemp() / "texture_model")


def _held_out(model: Path, n: int = 6) -> dict:
    """{image_id: quadrant} of `n` images the model was not trained on."""
    data = model.parent / "data"
    quadrants = json.loads((data / "quadrants.json").read_text())
    from data_tools.manifest import read_manifest

    held = [r["image_id"] for r in read_manifest(data) if r["split"] != "train"]
    return {i: quadrants[i] for i in held[:: max(1, len(held) // n)][:n]}


def test_heatmap_mass_sits_in_the_textured_quadrant(texture_model):
    """In-process on JAX (the model was trained on torch); other backends: the slow test."""
    from data_tools.decode import load_image
    from zoo.explain import explain_pixels
    from zoo.inference import open_predictor

    predictor = open_predictor(texture_model)
    fractions = []
    for image_id, q in _held_out(texture_model).items():
        artist = image_id.split("-")[0]
        pixels = load_image(texture_model.parent / "data" / "images" / artist / f"{image_id}.png", (32, 32))
        heat = explain_pixels(predictor, pixels, "artist", artist).heatmap
        r0, c0 = (q // 2) * 16, (q % 2) * 16
        fractions.append(float(heat[r0:r0 + 16, c0:c0 + 16].sum() / heat.sum()))
    print("heatmap mass in the evidence quadrant:", fractions)
    # chance is 25 %; the evidence quadrant must hold most of the heatmap's mass
    assert len(fractions) == 6 and np.mean(fractions) > 0.5, fractions
    assert min(fractions) > 0.3, fractions


def test_explain_cli_writes_pngs_and_names_a_broken_image(texture_model, tmp_path):
    data = texture_model.parent / "data"
    good = sorted((data / "images" / "checks").glob("*.png"))[:2]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path / "heat"
    proc = run_cli(["-m", "zoo", "explain", str(texture_model), str(good[0]), str(broken),
                    str(good[1]), "--out", str(out), "--task", "movement"], backend="torch",
                   OMP_NUM_THREADS="1")
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "broken.jpg" in errors[0], proc.stderr
    for image in good:
        png = out / f"{image.stem}.png"
        with Image.open(png) as img:
            assert img.size[0] >= 300 and img.size[1] >= 300
    assert "movement:" in proc.stdout and ("warm" in proc.stdout or "cool" in proc.stdout)


def test_explain_unknown_target_is_one_line(texture_model, tmp_path, capsys):
    from zoo.cli import main

    image = sorted((texture_model.parent / "data" / "images" / "checks").glob("*.png"))[0]
    code = main(["explain", str(texture_model), str(image), "--out", str(tmp_path), "--target", "monet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert "'monet': not one of this model's artist classes" in err
    assert not list(tmp_path.iterdir())  # nothing half-written


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "torch"])
def test_explain_localises_on_the_other_backends(texture_model, tmp_path, backend):
    quadrants = dict(list(_held_out(texture_model).items())[:3])
    out = run_child(backend, "explain:quadrant_fractions", env={"OMP_NUM_THREADS": "1"},
                    root=str(texture_model.parent / "data"), model=str(texture_model), quadrants=quadrants)
    assert np.mean(out["fractions"]) > 0.5, out


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_explain_on_zoo_backbones(backend):
    out = run_child(backend, "explain:zoo_backbones", env={"OMP_NUM_THREADS": "1"})
    for name, (shape, finite, top, png_bytes) in out.items():
        assert shape == [32, 32] and finite and top == 3 and png_bytes > 5000, (name, out)
