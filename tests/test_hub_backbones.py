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
