"""Models saved by the pre-restructure code (tests/fixtures/legacy_a31ce08, made by a31ce08's
`zoo.build`: a plain functional model) load as `zoo.ArtistModel`, predict the same and resume."""

import pytest

from tests.conftest import run_child

ATOL = 1e-5


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_legacy_model_loads_as_artist_model_with_the_same_outputs(backend):
    got = run_child(backend, "legacy:predict_legacy")
    assert got["class"] == "ArtistModel" and got["backend"] == backend
    assert got["heads"] == ["artist", "movement", "year"]
    tasks = {t["name"]: t for t in got["label_space"]["tasks"]}
    assert len(tasks["artist"]["classes"]) == 3 and tasks["year"]["kind"] == "regression"
    assert got["image_size"] == [32, 32] and got["filter"] == "UnsharpMask"
    assert all(diff <= ATOL for diff in got["diff"].values()), got["diff"]


def test_legacy_checkpoint_loads_with_its_optimizer_and_trains_on():
    got = run_child("torch", "legacy:resume_legacy_checkpoint")
    assert got["class"] == "ArtistModel"
    assert got["same_optimizer"] and got["nonzero_state"] > 0
    assert got["iterations"][1] == got["iterations"][0] + 1


def test_legacy_backbone_registers_once_and_builds():
    # in a child: the registry is process-wide, and in-process tests list every model
    got = run_child("torch", "legacy:build_tiny")
    assert got == {"listed": True, "class": "ArtistModel", "image_size": [32, 32]}
