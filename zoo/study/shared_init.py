"""Shared initial weights: per model and seed the starting weights are drawn once and every
backend's cell starts from them, so backend rows differ only by the backend.

`ensure` runs one child process (`make`, through `zoo.study.worker`) on one backend that
builds each missing (model, seed) with `keras.utils.set_random_seed(seed)`, heads for the
dataset's label space, and saves OUT/init/<model>-s<seed>.keras; a model that cannot be built
(e.g. an image size it refuses) leaves `<model>-s<seed>.error`, one line. A cell then trains
with `--weights` that file: `zoo.training.finetune.load_run_weights` copies the backbone and the
heads whose labels match (all of them: same data), as it moves any saved model between backends.
What still differs between backends is their own random streams (dropout) and arithmetic.
"""

import json
from pathlib import Path

from data_tools.files import atomic_path
from zoo.study import worker
from zoo.study.child import child_env, run_child


def init_path(folder: Path, model: str, seed: int) -> Path:
    return Path(folder) / f"{model}-s{seed}.keras"


def _error_path(folder: Path, model: str, seed: int) -> Path:
    return Path(folder) / f"{model}-s{seed}.error"


def make(folder: str, items: list, data: str, image_size: int) -> None:
    """Child: build and save every (model, seed) of `items` that has no file yet."""
    import keras

    import zoo
    from data_tools.labels import LabelSpace
    from data_tools.pipeline import load_rows

    labels = LabelSpace.from_rows(load_rows(data))
    for model_name, seed in items:
        path = init_path(Path(folder), model_name, seed)
        if path.exists():
            continue
        try:
            keras.utils.set_random_seed(seed)
            model = zoo.build(model_name, tasks=labels, input_shape=(image_size, image_size, 3))
            with atomic_path(path) as tmp:  # a killed child leaves no half-written file
                model.save(tmp)
        except Exception as exc:  # one line per model that cannot be built; the other models go on
            _error_path(Path(folder), model_name, seed).write_text(str(exc).splitlines()[0] if str(exc) else
                                                                   type(exc).__name__)
        keras.backend.clear_session()


def ensure(folder: Path, items: list[tuple[str, int]], *, data: Path, image_size: int, backend: str,
           timeout_s: float | None) -> dict[tuple[str, int], Path | str]:
    """(model, seed) -> the initial-weights file, or the one-line reason it could not be made."""
    folder.mkdir(parents=True, exist_ok=True)
    for model, seed in items:
        _error_path(folder, model, seed).unlink(missing_ok=True)  # a failure is retried on a re-run
    missing = [(m, s) for m, s in items if not init_path(folder, m, s).exists()]
    last = ""
    if missing:
        cmd = worker.command("shared_init:make", folder=str(folder), items=missing, data=str(data),
                             image_size=image_size)
        res = run_child(cmd, env=child_env(backend), log_path=folder / "init.log", timeout_s=timeout_s)
        last = res.last_error if res.returncode else ""
        (folder / "init.json").write_text(json.dumps({"backend": backend, "made": missing, "wall_s": res.wall_s}))
    out = {}
    for model, seed in items:
        path, error = init_path(folder, model, seed), _error_path(folder, model, seed)
        out[(model, seed)] = path if path.exists() else (
            error.read_text() if error.exists() else last or "initial weights were not written")
    return out
