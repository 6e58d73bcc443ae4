"""DINOv2 / CLIP / SigLIP (keras-hub encoders) against the transformers reference, offline.

Random-weight transformers checkpoints of real architectures (2 blocks: DINOv2 ViT-S/14
at 518 px, CLIP and SigLIP ViT-B/16 at 224 px) are saved with `save_pretrained`; the zoo
backbone built from each folder must give transformers' `pooler_output` within 1e-4, at
the checkpoint's size and at 224 px from the 518-px DINOv2 (position table resampled).
The default suite checks torch; the three-backend sweep is marked slow.
"""

import pytest

from tests.child.hub_reference import CASES
from tests.conftest import BACKENDS, run_child

TOLERANCE = 1e-4


@pytest.mark.slow  # keeps `make test` within 13 min; `make test-all` runs it
def test_pooled_features_match_transformers_on_torch(tmp_path):
    got = run_child("torch", "hub_backbones:compare", root=str(tmp_path), cases=list(CASES), make=True)
    assert set(got) == set(CASES)
    for case, diff in got.items():
        assert diff < TOLERANCE, (case, diff)


@pytest.mark.slow
@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "torch"])
def test_pooled_features_match_transformers_on_every_backend(tmp_path, backend):
    run_child("torch", "hub_reference:save", root=str(tmp_path), cases=list(CASES))
    got = run_child(backend, "hub_backbones:compare", root=str(tmp_path), cases=list(CASES))
    for case, diff in got.items():
        assert diff < TOLERANCE, (backend, case, diff)


def test_position_resampling_is_torch_bicubic():
    """`hub.bicubic_matrix` is torch's `interpolate(mode="bicubic", align_corners=False)`."""
    import numpy as np
    import torch

    from zoo.models.hub import bicubic_matrix

    grid = np.random.default_rng(0).normal(size=(37, 37, 3)).astype(np.float32)
    for new in (16, 9, 40):
        m = bicubic_matrix(37, new)
        ours = np.einsum("oh,hwc,pw->opc", m, grid, m)
        ref = torch.nn.functional.interpolate(torch.tensor(grid.transpose(2, 0, 1))[None], size=(new, new),
                                              mode="bicubic", align_corners=False)[0].numpy().transpose(1, 2, 0)
        assert np.abs(ours - ref).max() < 1e-5, new


def test_knn_votes_by_similarity():
    import numpy as np

    from zoo.training.knn import knn_scores

    train = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [5, 5]], np.float32)
    onehot = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [0, 0]], np.float32)  # the last: unlabelled
    scores = knn_scores(train, onehot, np.array([[2, 0.1], [0.2, 3]], np.float32), k=2)
    assert scores.argmax(1).tolist() == [0, 1] and np.allclose(scores.sum(1), 1)


def test_flip_tta_averages_the_mirror():
    import numpy as np

    from zoo.training.tta import FlipTTA, wrap

    class LeftColumn:  # a Predictor stand-in: the mean of the leftmost pixel column
        runtime = "numpy"

        def predict(self, images):
            return {"artist": images[:, :, 0].mean(axis=(1, 2))[:, None]}

    images = np.zeros((1, 4, 4, 3), np.float32)
    images[:, :, -1] = 2.0
    assert wrap(LeftColumn(), "none").predict(images)["artist"][0, 0] == 0
    assert FlipTTA(LeftColumn()).predict(images)["artist"][0, 0] == 1.0


def test_default_recipe_offline_is_from_scratch_with_a_notice(monkeypatch):
    """Issue 19: `zoo train --data D` picks the pretrained recipe where weights load; offline
    (ZOO_OFFLINE=1 here) the family's from-scratch recipe, with one notice naming it."""
    from zoo.training.defaults import choose

    monkeypatch.setenv("ZOO_OFFLINE", "1")
    name, recipe, notice = choose("resnet50", {"epochs": 3})
    assert name == "resnet" and recipe.epochs == 3 and recipe.weights is None
    assert notice.startswith("notice: no pretrained weights for resnet50") and "--recipe resnet" in notice
    assert "\n" not in notice
    name, _, notice = choose("dinov2_small14", {"weights": "none"})
    assert name == "vit" and notice is None  # --weights given: the user's choice


@pytest.mark.slow  # default-suite time; the offline one-line refusal is also tested for ImageNet
def test_hub_weights_offline_is_one_error_line(tmp_path):
    """An hf:// name that cannot be fetched stops `zoo train` with one line, before any data is read."""
    from tests.conftest import run_cli

    (tmp_path / "no-data-yet").mkdir()  # no manifest: reading it would be another error
    proc = run_cli(["-m", "zoo", "train", "--model", "dinov2_small14", "--weights", "hf://facebook/dinov2-small",
                    "--data", str(tmp_path / "no-data-yet"), "--out", str(tmp_path / "run")],
                   backend="torch", HF_HUB_OFFLINE="1")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "hf://facebook/dinov2-small" in lines[0] and "--weights none" in lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("name, size, blocks", [("dinov2_small14", 28, 12), ("clip_base16", 32, 12),
                                                ("siglip_base16", 32, 12)])
def test_hub_family_contract(tmp_path, name, size, blocks):
    """Each keras-hub family: layer depths (stem 0, blocks, heads on top), freezing, save/load on
    every backend, and an ONNX export (torch; SigLIP: tensorflow) verified by ONNX Runtime."""
    from tests.conftest import run_cli
    from zoo.inference.export import ONNX_REFUSED
    from zoo.registry import family_of

    for backend in BACKENDS:
        path = str(tmp_path / f"{backend}.keras")
        got = run_child(backend, "hub_backbones:family_contract", name=name, size=size, path=path)
        assert got["min_depth"] == 0 and got["head_depth"] and got["n_depths"] == blocks + 2, got
        assert got["frozen_is_heads"] and got["features"][0] == 2, got
        assert run_child(backend, "hub_backbones:reload", path=path, size=size)["diff"] < 1e-5
    exporter = next(b for b in ("torch", "tensorflow") if (b, family_of(name)) not in ONNX_REFUSED)
    proc = run_cli(["-m", "zoo", "export", str(tmp_path / f"{exporter}.keras"), "--format", "onnx",
                    "--out", str(tmp_path / "onnx" / "model.onnx")], backend=exporter)
    assert proc.returncode == 0 and "verified by ONNX Runtime" in proc.stdout, proc.stderr[-2000:]


@pytest.mark.slow
def test_probe_then_knn_and_flip_tta(tmp_path):
    """`--recipe probe` caches the features once and trains the heads; `evaluate --knn --tta flip`."""
    import json

    from tests.conftest import run_cli

    data, run = tmp_path / "data", tmp_path / "run"
    assert run_cli(["-m", "data_tools", "synth", "--out", str(data), "--artists", "4", "--per-artist", "12",
                    "--image-size", "32"]).returncode == 0
    proc = run_cli(["-m", "zoo", "train", "--recipe", "probe", "--model", "vit_tiny16", "--weights", "none",
                    "--image-size", "32", "--epochs", "3", "--data", str(data), "--out", str(run)], backend="torch")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(list((data / ".cache").glob("features-*.npz"))) == 2  # train and val, computed once
    assert json.loads((run / "metrics.json").read_text())["probe"] is True
    proc = run_cli(["-m", "zoo", "evaluate", str(run / "model.keras"), "--data", str(data), "--knn", "5",
                    "--tta", "flip"], backend="torch")
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads(proc.stdout.strip().splitlines()[-1])
    assert metrics["tta"] == "flip" and 0 <= metrics["knn_artist_top1"] <= 1 and metrics["knn_k"] == 5
