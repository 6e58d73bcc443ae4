"""timm ViT checkpoints load into the zoo's Keras ViT and give timm's features, on every backend.

The reference is real timm code (random weights, nothing downloaded): a
`vit_tiny_patch16_224` with `num_classes=0`, its pooled output at 224 px, and a
model built with `img_size=128` whose state dict went through timm's own
`checkpoint_filter_fn` (position table resampled).
"""

import importlib.util
import json

import pytest

from tests.conftest import BACKENDS, run_child

if (
    importlib.util.find_spec("timm") is None
):  # the dev extra installs it; imported only in a subprocess
    pytest.skip("timm not installed (pip install -e .[dev])", allow_module_level=True)

# DeiT-style normalisation, written to the checkpoint's config.json as timm's hub layout does.
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def _reference(out, timm_name: str, width: int):
    """A random timm checkpoint (+ config.json, .pth copy) in `out` and timm's features for it."""
    r = run_child("torch", "vit_weights:reference", out=str(out), name=timm_name, mean=MEAN, std=STD)
    assert r["shape"] == [2, width]
    return out


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return _reference(tmp_path_factory.mktemp("timm"), "vit_tiny_patch16_224", 192)


@pytest.mark.parametrize("backend", BACKENDS)
def test_timm_checkpoint_gives_timm_features(checkpoint, backend):
    r = run_child(
        backend, "vit_weights:compare", out=str(checkpoint), name="vit_tiny16", mean=MEAN, std=STD
    )
    assert r["scale224"] > 0.1 and r["scale128"] > 0.1  # features are not trivially small
    assert r["diff224"] <= 1e-4, r
    assert r["diff128"] <= 1e-4, r
    assert r["preprocess"]["mode"] == "normalize"  # the checkpoint's config.json mean/std
    assert r["preprocess"]["mean"] == pytest.approx(MEAN) and r["preprocess"][
        "std"
    ] == pytest.approx(STD)
    if backend == "torch":
        assert r["diff_pth"] <= 1e-4, r
    if backend == "jax":
        assert r["convert_rc"] == 0
        assert r["diff_converted"] <= 1e-4, r
        assert r["sidecar"]["mean"] == pytest.approx(MEAN) and r["sidecar"]["image_size"] == 128
        line = r["mismatch"].strip()
        assert r["mismatch_rc"] == 2 and line.startswith("error: ") and "\n" not in line, line
        assert "'cls_token'" in line and "(1, 1, 192)" in line and "(1, 1, 384)" in line, line
        assert not r["mismatch_wrote"]
    print(json.dumps(r))


@pytest.mark.slow
def test_vit_small_checkpoint_gives_timm_features(tmp_path):
    out = _reference(tmp_path, "vit_small_patch16_224", 384)
    r = run_child("torch", "vit_weights:compare", out=str(out), name="vit_small16", mean=MEAN, std=STD)
    assert max(r["diff224"], r["diff128"], r["diff_pth"]) <= 1e-4, r
