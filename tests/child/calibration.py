"""Model-level calibration checks (one backend per process): a saved model keeps its temperatures
and thresholds, and a model that never saw an artist calls that artist's works unknown."""

import csv
import os
from pathlib import Path

import numpy as np

from tests.child.legacy import FIXTURE


def calibrate_legacy(workdir: str) -> dict:
    """The pre-temperature fixture model: calibrate it on its data, save, reload; what holds."""
    import zoo
    from data_tools.pipeline import make_dataset
    from zoo.calibration.temperature import softmax_at
    from zoo.inference.keras_predictor import KerasPredictor
    from zoo.inference.prediction import predict_files
    from zoo.training.calibrate import calibrate, model_outputs

    model = zoo.load_model(FIXTURE / "run" / "model.keras", compile=False)
    before = {n: h.temperature for n, h in model.heads.items() if not h.is_regression}
    ds = make_dataset(FIXTURE / "data", "train", model.label_space, image_size=model.image_size, batch_size=4)
    record = calibrate(model, ds, coverage=0.8, method="aps")
    path = Path(workdir) / "calibrated.keras"
    model.save(path)
    loaded = zoo.load_model(path, compile=False)
    preds, _, _, logits = model_outputs(loaded, ds)
    t = loaded.heads["artist"].temperature
    images = sorted(str(p) for p in (FIXTURE / "data" / "images").rglob("*.jpg"))[:2]
    lines = list(predict_files(KerasPredictor(loaded), images, top_k=2))
    return {"before": before, "record_t": record["temperature"]["artist"], "loaded_t": t,
            "same_record": loaded.calibration == record, "method": loaded.calibration["method"],
            "graph_diff": float(np.abs(preds["artist"] - softmax_at(logits["artist"], t)).max()),
            "keys": sorted(set().union(*lines))}


def holdout_unknown(workdir: str, epochs: int = 12) -> dict:
    """Synthesize 5 artists, train the tiny backbone on 4 (one held out), calibrate on val;
    the share of the held-out artist's works called unknown, and the test metrics."""
    import tests.child.legacy_backbone as legacy
    from data_tools import synth
    from recipes import Recipe
    from zoo.inference.keras_predictor import KerasPredictor
    from zoo.inference.prediction import predict_files
    from zoo.training.loop import train

    root = Path(workdir)
    synth.synthesize(root / "all", artists=5, per_artist=30, image_size=32, seed=0)
    rows = list(csv.DictReader(open(root / "all" / "manifest.csv", newline="")))
    held = sorted({r["artist"] for r in rows})[2]
    known = root / "known"
    known.mkdir()
    with open(known / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["artist"] != held)
    os.symlink((root / "all" / "images").resolve(), known / "images")
    recipe = Recipe(model=legacy.NAME, image_size=32, batch_size=8, epochs=epochs, augment="none", lr=3e-3,
                    schedule="cosine", precision="float32", bn_momentum=0.9)
    result = train(recipe, backend=os.environ["KERAS_BACKEND"], data_dir=known, run_dir=root / "run", seed=0,
                   verbose=0)
    import zoo

    predictor = KerasPredictor(zoo.load_model(root / "run" / "model.keras", compile=False))
    works = [str(root / "all" / r["path"]) for r in rows if r["artist"] == held]
    verdicts = [line["unknown"]["unknown"] for line in predict_files(predictor, works)]
    return {"unknown_share": float(np.mean(verdicts)), "test_top1": result.metrics["artist_top1"],
            "coverage": result.metrics["artist_coverage"], "tpr": predictor.calibration["unknown"]["tpr"]}


class _Rows:
    """`(images, targets, weights)` batches of manifest rows decoded with `load_image` (PNG too),
    the shape `zoo.training.calibrate.calibrate` reads."""

    def __init__(self, data: Path, rows, labels, size):
        from data_tools.decode import load_image

        self.images = np.stack([load_image(data / r["path"], size) for r in rows])
        encoded = labels.encode(rows)
        self.targets, self.weights = {}, {}
        for task in labels.tasks:
            values = np.asarray(encoded[task.name])
            if task.is_regression:
                self.targets[task.name] = np.nan_to_num(values.astype(np.float32))[:, None]
                self.weights[task.name] = np.isfinite(values).astype(np.float32)
            else:
                self.targets[task.name] = np.eye(len(task.classes), dtype=np.float32)[np.maximum(values, 0)]
                self.weights[task.name] = (values >= 0).astype(np.float32)

    def as_numpy_iterator(self):
        yield self.images, self.targets, self.weights


def calibrate_textures(model: str, out: str) -> dict:
    """The texture model of tests/test_explain.py calibrated on its val split (PNG images, so not
    through the JPEG pipeline of `zoo calibrate`), saved to `out`."""
    import zoo
    from data_tools.manifest import read_manifest
    from zoo.training.calibrate import calibrate

    net = zoo.load_model(model, compile=False)
    data = Path(model).parent / "data"
    rows = [r for r in read_manifest(data) if r["split"] == "val"]
    record = calibrate(net, _Rows(data, rows, net.label_space, net.image_size))
    net.save(out)
    return {"temperature": record["temperature"], "unknown": record["unknown"]}
