"""Run an exported artifact in its own runtime and compare it with Keras.

Both sides are Predictors fed the same batch of `CHECK_IMAGES` images in ONE call, so the
check also proves the artifact takes a batch of several images. The check that passes or
fails is against the float32 copy of the model (`zoo.inference.float32`: the arithmetic the
artifact was written from): max |delta| <= TOLERANCE in probabilities, and in regression
outputs relative to their size. For a mixed-precision model the difference to the model as
trained (its own dtype policy, what `zoo predict` runs) is measured and reported too.
"""

from pathlib import Path

import numpy as np

from zoo.inference import sidecar
from zoo.inference.runners import RUNNERS, RUNTIME_NAMES

TOLERANCE = 1e-4
CHECK_IMAGES = 4


class VerificationError(Exception):
    """Export failed, or the artifact does not reproduce Keras' outputs (exit 1)."""


class MismatchError(VerificationError):
    """The artifact runs but differs from Keras beyond the tolerance (the artifact is kept)."""


def shown(path) -> str:
    """`path` relative to the current directory when inside it, else absolute."""
    path = Path(path).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def check_images(model_file, size, count: int = CHECK_IMAGES) -> tuple[np.ndarray, str]:
    """`(count, H, W, 3)` float32 0..255 images and where they came from: test images of the
    dataset named by the run folder's config.json when readable, else seeded synthetic ones."""
    from data_tools.decode import load_image

    try:
        from data_tools.manifest import read_manifest
        from zoo.run_folder import RunFolder

        config = RunFolder(Path(model_file).parent).read_config()

        data_dir = Path(config["data"]["dir"])
        rows = sorted(read_manifest(data_dir), key=lambda r: r["split"] != "test")
        images = [load_image(data_dir / r["path"], size) for r in rows[:count]]
        if len(images) == count:
            return np.stack(images), f"{count} images of {shown(data_dir)}"
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no run folder or dataset at hand: synthetic images check the same arithmetic
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, (count, *size, 3)).astype(np.float32), f"{count} synthetic images"


def dtype_policy(model) -> str:
    """The mixed-precision policy name `model`'s layers compute in ("mixed_bfloat16"), or "float32"."""
    def names(config):
        if isinstance(config, list):
            return {n for c in config for n in names(c)}
        if not isinstance(config, dict):
            return set()
        if config.get("class_name") == "DTypePolicy":
            return {str(config["config"]["name"])}
        return {n for v in config.values() for n in names(v)}

    mixed = sorted(n for n in names(model.get_config()) if n.startswith("mixed_"))
    return mixed[0] if mixed else "float32"


def compare(reference: dict, got: dict, meta: dict) -> dict:
    """Max |delta| per head: absolute for probabilities, relative to |value| for regression."""
    diffs = {}
    for name, task in meta["tasks"].items():
        ref = np.asarray(reference[name], dtype=np.float64)
        out = np.asarray(got[name], dtype=np.float64).reshape(ref.shape)
        delta = np.abs(out - ref)
        if task["kind"] == "regression":
            delta = delta / np.maximum(np.abs(ref), 1.0)
        diffs[name] = float(delta.max())
    return diffs


def _run_artifact(artifact, meta: dict, pixels: np.ndarray) -> dict:
    """The artifact's outputs on `pixels`, in one runtime call; VerificationError when the
    runtime cannot load or run it, or the artifact has a fixed batch size."""
    fmt = meta["format"]
    if fmt == "onnx":
        import onnxruntime

        onnxruntime.set_default_logger_severity(4)  # its own red log line would repeat our one error line
    try:
        runner = RUNNERS[fmt](artifact, meta)
        if runner.batch is not None:
            raise ValueError(f"its batch size is fixed to {runner.batch}; exports take any batch size")
        return runner.predict(pixels)
    except Exception as exc:
        # e.g. tf2onnx leaves EfficientNet's Normalization constants as graph inputs;
        # the jax and torch exporters write that model correctly
        hint = "; try --backend jax or torch" if fmt == "onnx" and meta.get("backend") == "tensorflow" else ""
        raise VerificationError(f"{artifact}: {RUNTIME_NAMES[fmt]} cannot run it: "
                                f"{type(exc).__name__}: {exc}".splitlines()[0] + hint) from exc


def verify(artifact, *, keras_predictor=None, trained_predictor=None, images=None,
           tolerance: float = TOLERANCE) -> dict:
    """Compare `artifact` with Keras: `keras_predictor` (default: the sidecar's source model in
    float32) decides pass/fail; `trained_predictor` (default: that model as trained, when it
    is mixed precision) is measured too. `images`: (pixels, description), default
    `check_images`. The result goes into the sidecar. Returns {artifact, sidecar, runtime,
    images, max_abs_diff, tolerance, passed, as_trained}; raises VerificationError."""
    meta = sidecar.read_sidecar(artifact)
    source = sidecar.source_model(artifact, meta)
    if keras_predictor is None:
        import zoo
        from zoo.inference.float32 import as_float32
        from zoo.inference.keras_predictor import KerasPredictor

        loaded = zoo.load_model(source, compile=False)
        keras_predictor = KerasPredictor(as_float32(loaded))
        trained_predictor = None if keras_predictor.model is loaded else KerasPredictor(loaded)
    pixels, described = images or check_images(source, tuple(meta["input_size"]))
    got = _run_artifact(artifact, meta, pixels)
    diffs = compare(keras_predictor.predict(pixels), got, meta)
    as_trained = None if trained_predictor is None else {
        "dtype_policy": dtype_policy(trained_predictor.model),
        "max_abs_diff": compare(trained_predictor.predict(pixels), got, meta)}
    runtime = RUNTIME_NAMES[meta["format"]]
    meta["verification"] = {"runtime": runtime, "images": described, "max_abs_diff": diffs,
                            "tolerance": tolerance, "passed": all(v <= tolerance for v in diffs.values()),
                            "as_trained": as_trained}
    side = sidecar.write_sidecar(artifact, meta)
    if not meta["verification"]["passed"]:
        worst = max(diffs, key=diffs.get)
        raise MismatchError(f"{artifact}: {runtime} differs from Keras (float32 copy) on {described}: "
                            f"{worst} max |delta| {diffs[worst]:.2e} > {tolerance:g} (artifact kept)")
    return {"artifact": str(artifact), "sidecar": str(side), **meta["verification"]}
