"""The prediction JSON: what `zoo predict` prints, `/predict` answers, the web page draws
and explain captions show, from one image's outputs.

    {"image": NAME, "artists": [{"name", "p"}, ... top_k], "<class task>": {"name", "p"},
     "<regression task>": value (1 decimal)}

The primary task (`artist`) is listed as its top-k under the key "artists"; every other
classification task by its top-1; probabilities are rounded to 4 decimals. A calibrated
model (`zoo.calibration.store`) adds, per classification task, its conformal set
`"<task>_set": [names, most probable first]`, per regression task `"<task>_interval": [low,
high]`, and the unknown-artist verdict

    "unknown": {"verdict": "unknown artist" | "known artist", "unknown": bool,
                "score": float, "threshold": float, "kind": "msp" | "energy"}
"""

import numpy as np

from data_tools.decode import BadImage, load_image
from data_tools.labels import PRIMARY, LabelSpace
from zoo.calibration import store

BATCH = 32  # images per predictor call in `predict_files`


def top_classes(values, classes, k: int) -> list[dict]:
    """The `k` most probable of `classes` given probabilities `values` (n,): [{"name", "p"}]."""
    values = np.asarray(values).reshape(-1)
    return [{"name": classes[i], "p": round(float(values[i]), 4)} for i in np.argsort(-values)[:k]]


def prediction_json(outputs_row: dict, label_space: LabelSpace, top_k: int = 5,
                    calibration: dict | None = None) -> dict:
    """One image's prediction (module docstring) from `outputs_row`: head -> that image's
    `(n_classes,)` probabilities or `(1,)` value (and a Keras predictor's `store.LOGITS_KEY`);
    `calibration`: the model's record (or None)."""
    line = {}
    for task in label_space.tasks:
        values = np.asarray(outputs_row[task.name]).reshape(-1)
        if task.is_regression:
            line[task.name] = round(float(values[0]), 1)
        elif task.name == PRIMARY:
            line["artists"] = top_classes(values, task.classes, top_k)
        else:
            line[task.name] = top_classes(values, task.classes, 1)[0]
    line.update(uncertainty_json(outputs_row, label_space, calibration))
    return line


def uncertainty_json(outputs_row: dict, label_space: LabelSpace, calibration: dict | None) -> dict:
    """The sets, intervals and unknown verdict of one image (module docstring); {} uncalibrated."""
    extra = {}
    for task in label_space.tasks:
        values = np.asarray(outputs_row[task.name]).reshape(-1)
        if task.is_regression:
            bounds = store.interval(calibration, task.name, values[:1])
            if bounds is not None:
                extra[f"{task.name}_interval"] = [round(float(b), 1) for b in bounds[0]]
            continue
        members = store.members(calibration, task.name, values)
        if members is not None:
            extra[f"{task.name}_set"] = [task.classes[i] for i in np.argsort(-values) if members[0, i]]
        if task.name == PRIMARY:
            verdict = store.unknown_verdict(calibration, values, outputs_row.get(store.LOGITS_KEY))
            if verdict is not None:
                extra["unknown"] = {"verdict": "unknown artist" if verdict[0]["unknown"] else "known artist",
                                    **verdict[0]}
    return extra


def predict_files(predictor, paths, *, top_k: int = 5):
    """Yield per image file, in order: `{"image": path, **prediction_json}`, or
    `{"image", "error"}` when the file cannot be read. Pixels come from
    `data_tools.decode.load_image` (training's own decode); BATCH images per call."""
    paths = [str(p) for p in paths]
    for start in range(0, len(paths), BATCH):
        chunk, pixels = paths[start:start + BATCH], {}
        for path in chunk:
            try:
                pixels[path] = load_image(path, predictor.image_size)
            except BadImage as exc:
                pixels[path] = exc
        good = [p for p in chunk if not isinstance(pixels[p], BadImage)]
        out = predictor.predict(np.stack([pixels[p] for p in good])) if good else {}
        rows = {p: {name: v[i] for name, v in out.items()} for i, p in enumerate(good)}
        for path in chunk:
            if path in rows:
                yield {"image": path, **prediction_json(rows[path], predictor.label_space, top_k,
                                                        getattr(predictor, "calibration", None))}
            else:
                yield {"image": path, "error": str(pixels[path])}
