"""The contract every `zoo.list_models()` entry keeps: it builds at its minimum input size,
each head gives the right shape, it saves and loads, and every variable has a layer depth.

Runs on the TensorFlow backend in two child processes (one per core): building 26
backbones (1.5 billion parameters in all) means creating each variable once, which
TensorFlow's eager initializers do about three times faster than torch's and without
JAX's per-initializer compilation. Full .keras round trips: the smallest model of each
family (`tests/child/contract.py:ROUND_TRIP`).
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.child.contract import HUB_FAMILIES, ROUND_TRIP, TASKS
from tests.conftest import run_child

WORKERS = 2


def _larger_hub_models() -> list[str]:
    from zoo import registry

    return [n for n in registry.list_models() if registry.get(n).family in HUB_FAMILIES and n not in ROUND_TRIP]


def test_every_registered_model_keeps_the_contract(tmp_path):
    """Every model but the larger keras-hub ones (their family's ROUND_TRIP model is here)."""
    from zoo import registry

    names = [n for n in registry.list_models() if n not in _larger_hub_models()]
    check_contract(names, tmp_path)
    families = {registry.get(name).family for name in registry.list_models()}
    assert families == {registry.get(name).family for name in ROUND_TRIP}  # one per family


@pytest.mark.slow
def test_larger_hub_models_keep_the_contract(tmp_path):
    check_contract(_larger_hub_models(), tmp_path)


def check_contract(names: list[str], tmp_path) -> None:
    """Build, run, depth and (ROUND_TRIP) save/load facts of `names`, in two TF children."""
    shares = [names[i::WORKERS] for i in range(WORKERS)]
    with ThreadPoolExecutor(WORKERS) as pool:
        parts = pool.map(lambda share: run_child("tensorflow", "contract:check_models", timeout=900,
                                                 names=share, out=str(tmp_path)), shares)
        report = {name: row for part in parts for name, row in part.items()}
    assert sorted(report) == names
    want = {t: [1, 1] if what == "regression" else [1, what] for t, what in TASKS.items()}
    for name, row in report.items():
        assert row["class"] == "ArtistModel", name
        assert row["shapes"] == want, (name, row["shapes"])
        assert row["all_depths"] and row["min_depth"] == 0 and row["top"] >= 2, (name, row)
        assert row["heads_at_top"] and row["backbone_below_top"], (name, row)
    for name in set(ROUND_TRIP) & set(names):
        row = report[name]
        assert row["loaded_class"] == "ArtistModel" and row["loaded_labels"], (name, row)
        assert row["loaded_diff"] <= 1e-5, (name, row["loaded_diff"])
