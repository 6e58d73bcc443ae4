"""The run folder's resume rule, in-process and without a backend, on the pre-restructure
run of tests/fixtures/legacy_a31ce08 (recipe legacy_tiny, 1 epoch, torch, seed 0)."""

import shutil

import pytest

from tests.conftest import ROOT
from zoo.run_folder import RunFolder

FIXTURE = ROOT / "tests" / "fixtures" / "legacy_a31ce08"


@pytest.fixture
def legacy(tmp_path):
    shutil.copytree(FIXTURE / "run", tmp_path / "run")
    shutil.copytree(FIXTURE / "data", tmp_path / "data")
    return RunFolder(tmp_path / "run"), tmp_path / "data"


def test_reads_the_records_of_an_old_run(legacy):
    folder, _ = legacy
    state = folder.read_state()
    assert folder.recorded_backend() == "torch" and folder.holds_run()
    assert state.epoch == 1 and folder.checkpoint_path(state).is_file() and state.plateau["wait"] == 0
    assert state.learning_rate(0.5) == pytest.approx(1e-3)
    assert folder.recorded_recipe().model == "legacy_tiny" and folder.is_finished(1)
    assert not folder.is_finished(2)
    assert RunFolder(folder.path / "nothing").recorded_backend() is None


def test_resume_may_change_only_epochs(legacy):
    folder, data = legacy
    plan = folder.resume_plan(flags={"epochs": 3, "lr": 1e-3}, data=data, backend="torch")
    assert plan.recipe == folder.recorded_recipe().replace(epochs=3)
    assert (plan.epochs_done, plan.finished, plan.seed, plan.data_dir) == (1, False, 0, data)
    assert folder.resume_plan(data=data, backend="torch").finished  # 1 of 1 epochs, metrics written
    config = folder.resumed_config(plan.recipe, at_epoch=1)
    assert config["recipe"]["epochs"] == 3 and config["resumed"] == [{"at_epoch": 1, "epochs": 3}]


@pytest.mark.parametrize("given, message", [
    ({"flags": {"lr": 0.5}}, "--lr 0.5: run "),
    ({"flags": {"batch_size": 8, "epochs": 2}}, "--batch-size 8: run "),
    ({"recipe_name": "quickstart"}, "--recipe quickstart: run "),
    ({"backend": "jax"}, "--backend jax: run "),
    ({"seed": 3}, "--seed 3: run "),
    ({"data": "/no/such/data"}, "--data /no/such/data: no manifest.csv"),
])
def test_resume_refuses_other_changes_in_one_line(legacy, given, message):
    folder, data = legacy
    kwargs = {"data": data, "backend": "torch", **given}
    with pytest.raises(ValueError) as err:
        folder.resume_plan(**kwargs)
    assert str(err.value).startswith(message) and "\n" not in str(err.value), err.value


def test_train_recipe_is_held_to_the_same_rule(legacy):
    folder, data = legacy
    recorded = folder.recorded_recipe()
    # train() passes its whole recipe; a shortened warm-up was resolved at the start and stays
    assert folder.resumed_recipe(recorded.replace(epochs=4, warmup_epochs=9)) == recorded.replace(epochs=4)
    with pytest.raises(ValueError, match=r"another recipe \(augment differ\)"):
        folder.resumed_recipe(recorded.replace(augment="basic"))
