"""Outputs a user reads (issue 23): curves per head with whole epochs, inference speed without a
full batch, top-5 only where it says something, whole paths beside the metric tables, the
BatchNorm momentum used, plural counts."""

import json

import numpy as np
import pytest

from tests.test_train import history_epochs, train


@pytest.mark.slow  # keeps `make test` within 13 min; `make test-all` runs it
def test_bn_momentum_used_is_recorded_and_the_run_resumes(tiny_data, tmp_path):
    run = tmp_path / "run"
    proc = train("torch", tiny_data, run, "--recipe", "resnet", "--epochs", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "1 epoch," in proc.stdout and "1 epochs" not in proc.stdout
    config = json.loads((run / "config.json").read_text())
    assert config["recipe"]["bn_momentum"] == "auto"  # what was asked stays in the recipe
    assert config["bn_momentum_used"] == 0.9  # 4 steps an epoch: "auto" gives 0.9
    proc = train("torch", tiny_data, run, "--recipe", "resnet", "--epochs", "2", "--resume")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((run / "config.json").read_text())["bn_momentum_used"] == 0.9
    assert history_epochs(run) == [1, 2]


def test_curves_of_a_single_head_run_have_every_panel_and_whole_epochs():
    from zoo.training.plots import curves_figure

    # One head (artist labels only): Keras logs `top1`, not `artist_top1`.
    history = [{"epoch": e, "loss": 2.0 / e, "top1": 0.2 * e, "val_loss": 2.5 / e, "val_top1": 0.15 * e}
               for e in (1, 2, 3)]
    fig = curves_figure(history, heads=["artist"])
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["total loss", "artist top-1"]
    accuracy = fig.axes[1].lines[0].get_ydata()
    assert np.allclose(accuracy, [0.2, 0.4, 0.6])
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if 1 <= t <= 3]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    multi = curves_figure([{"epoch": 1, "loss": 1.0, "artist_top1": 0.5, "year_mae": 9.0}],
                          heads=["artist", "movement", "year"])
    assert [ax.get_title() for ax in multi.axes] == ["total loss", "artist top-1", "year MAE (years)"]


class _Uniform:
    """A Predictor stand-in: the same probabilities for every image (it counts its calls)."""

    def __init__(self, classes):
        self.classes, self.calls = classes, 0

    def predict(self, images):
        self.calls += 1
        return {"artist": np.tile(np.linspace(1, 0, self.classes, dtype="float32"), (len(images), 1))}


def _dataset(n, classes, batch):
    import tensorflow as tf

    labels = np.eye(classes, dtype="float32")[np.arange(n) % classes]
    data = (np.zeros((n, 2, 2, 3), "float32"), {"artist": labels}, {"artist": np.ones(n, "float32")})
    return tf.data.Dataset.from_tensor_slices(data).batch(batch)


def test_inference_speed_without_a_full_batch_after_the_first():
    from zoo.training.evaluation import collect_predictions

    predictor = _Uniform(3)
    preds, *_, img_s = collect_predictions(predictor, _dataset(60, 3, 32))  # batches of 32 and 28
    assert len(preds["artist"]) == 60 and img_s is not None and img_s > 0
    assert predictor.calls == 3  # the first batch once more, compiled by then
    assert collect_predictions(_Uniform(3), _dataset(100, 3, 32))[3] > 0  # full batches: timed as they come


def test_top5_only_above_five_artists():
    from data_tools.labels import LabelSpace, Task
    from zoo.training.evaluation import collect_predictions, compute_metrics

    for classes, has_top5 in ((3, False), (5, False), (6, True)):
        space = LabelSpace((Task("artist", tuple("abcdef"[:classes])),))
        preds, targets, weights, _ = collect_predictions(_Uniform(classes), _dataset(12, classes, 4))
        metrics = compute_metrics(preds, targets, weights, space)
        assert ("artist_top5" in metrics) == has_top5, (classes, metrics)


def test_metrics_table_keeps_its_path_whole(tmp_path, monkeypatch):
    import io

    from rich.console import Console

    from zoo.training.report import print_metrics

    run = tmp_path / "runs" / ("resnet50-jax-" + "x" * 60)
    run.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    text = io.StringIO()
    print_metrics({"artist_top1": 0.5, "n_images": 60}, "test metrics (3 s)", source=run,
                  console=Console(file=text, width=40))
    out = text.getvalue()
    assert f"run folder: runs/{run.name}\n" in out  # relative to the cwd, on one line
    assert str(tmp_path) not in out and "test metrics (3 s)" in out
