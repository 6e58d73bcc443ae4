"""Run an exported artifact in its own runtime and compare it with Keras.

Both sides are Predictors (`KerasPredictor` of the float32 model, the artifact's runner)
fed the same batch of `CHECK_IMAGES` images in ONE call, so the check also proves the
artifact takes a batch of several images. Pass: max |delta| <= TOLERANCE in
probabilities, and in regression outputs relative to their size.
"""

from pathlib import Path

import numpy as np

from zoo.inference import sidecar
from zoo.inference.runners import RUNNERS, RUNTIME_NAMES

TOLERANCE = 1e-4
CHECK_IMAGES = 4


class VerificationError(Exception):
    """Export failed, or the artifact does not reproduce Keras' outputs (exit 1)."""


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
            return np.stack(images), f"{count} images of {data_dir}"
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no run folder or dataset at hand: synthetic images check the same arithmetic
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, (count, *size, 3)).astype(np.float32), f"{count} synthetic images"


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


def verify(artifact, *, keras_predictor=None, images=None, tolerance: float = TOLERANCE) -> dict:
    """Compare `artifact` with Keras (`keras_predictor`, default: the sidecar's source model
    in float32) on `images` ((pixels, description), default `check_images`); record the
    result in the sidecar. Returns {artifact, sidecar, runtime, images, max_abs_diff,
    tolerance, passed}; raises VerificationError."""
    meta = sidecar.read_sidecar(artifact)
    if keras_predictor is None:
        import zoo
        from zoo.inference.float32 import as_float32
        from zoo.inference.keras_predictor import KerasPredictor

        keras_predictor = KerasPredictor(as_float32(zoo.load_model(meta["source_model"], compile=False)))
    pixels, source = images or check_images(meta["source_model"], tuple(meta["input_size"]))
    reference = keras_predictor.predict(pixels)
    diffs = compare(reference, _run_artifact(artifact, meta, pixels), meta)
    runtime = RUNTIME_NAMES[meta["format"]]
    meta["verification"] = {"runtime": runtime, "images": source, "max_abs_diff": diffs,
                            "tolerance": tolerance, "passed": all(v <= tolerance for v in diffs.values())}
    side = sidecar.write_sidecar(artifact, meta)
    if not meta["verification"]["passed"]:
        worst = max(diffs, key=diffs.get)
        raise VerificationError(f"{artifact}: {runtime} differs from Keras on {source}: "
                                f"{worst} max |delta| {diffs[worst]:.2e} > {tolerance:g} (artifact kept)")
    return {"artifact": str(artifact), "sidecar": str(side), **meta["verification"]}
