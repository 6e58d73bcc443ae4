"""The contract every `zoo.list_models()` entry keeps: it builds at its minimum input size,
each head gives the right shape, it saves and loads, and every variable has a layer depth.

Runs on the TensorFlow backend in two child processes (one per core): building 26
backbones (1.5 billion parameters in all) means creating each variable once, which
TensorFlow's eager initializers do about three times faster than torch's and without
JAX's per-initializer compilation. Full .keras round trips: the smallest model of each
family (`tests/child/contract.py:ROUND_TRIP`).
"""

from concurrent.futures import ThreadPoolExecutor

from tests.child.contract import ROUND_TRIP, TASKS
from tests.conftest import run_child

WORKERS = 2


def test_every_registered_model_keeps_the_contract(tmp_path):
    from zoo import registry

    names = registry.list_models()
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
    for name in ROUND_TRIP:
        row = report[name]
        assert row["loaded_class"] == "ArtistModel" and row["loaded_labels"], (name, row)
        assert row["loaded_diff"] <= 1e-5, (name, row["loaded_diff"])
    families = {registry.get(name).family for name in names}
    assert families == {registry.get(name).family for name in ROUND_TRIP}  # one per family
