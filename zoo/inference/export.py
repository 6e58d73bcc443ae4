"""Export a zoo model with Keras' `model.export`, write its sidecar, verify it.

Formats and the backends that write them (Keras 3.15 and the `export` extra's packages):

    onnx            jax (jax2onnx), tensorflow (tf2onnx), torch (torch.onnx dynamo, see torch_onnx)
    tf_saved_model  tensorflow, jax (jax2tf)         torch needs torch_xla
    openvino        tensorflow                       jax: jax2tf's XlaCallModule is not
                                                     readable by OpenVINO; torch: jit.trace
                                                     refuses the dict of heads
    litert          tensorflow                       torch needs litert-torch

Every artifact has a free batch dimension. Right after writing, it runs in its own runtime
on several images at once and must match Keras (`zoo.inference.verify`); a mismatch
raises VerificationError (the artifact stays for inspection). ONNX outputs are renamed to
the head names and carry the sidecar in `metadata_props` (`zoo.inference.sidecar`).
"""

import logging
import warnings
from pathlib import Path

import numpy as np

from zoo.inference.sidecar import tasks_json, write_sidecar
from zoo.inference.verify import CHECK_IMAGES, TOLERANCE, VerificationError, check_images, verify

FORMATS = ("onnx", "tf_saved_model", "openvino", "litert")
# Backends whose `model.export` writes each format here (see the module docstring).
EXPORTERS = {
    "onnx": ("jax", "tensorflow", "torch"),
    "tf_saved_model": ("tensorflow", "jax"),
    "openvino": ("tensorflow",),
    "litert": ("tensorflow",),
}
SUFFIX = {"onnx": ".onnx", "openvino": ".xml", "litert": ".tflite", "tf_saved_model": ""}


def check_request(fmt: str, out, backend: str) -> Path:
    """`out` as a Path, or ValueError naming what is wrong with the format/backend/path."""
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if backend not in EXPORTERS[fmt]:
        raise ValueError(f"--format {fmt} cannot be exported from the {backend} backend with Keras' "
                         f"model.export here; use --backend {EXPORTERS[fmt][0]}")
    out = Path(out)
    if SUFFIX[fmt] and out.suffix != SUFFIX[fmt]:
        raise ValueError(f"--out {out}: the {fmt} artifact's name must end with {SUFFIX[fmt]}")
    if not SUFFIX[fmt] and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"--out {out}: exists and is not an empty folder (a SavedModel is a folder)")
    if not out.parent.is_dir():
        raise ValueError(f"--out {out}: folder {out.parent} does not exist")
    return out


def model_metadata(predictor, fmt: str, model_file) -> dict:
    """The sidecar's content for a `KerasPredictor` (before verification)."""
    import keras

    return {
        "format": fmt,
        "backend": predictor.backend,
        "keras_version": keras.__version__,
        "source_model": str(Path(model_file).resolve()),
        "model_name": predictor.name,
        "input_size": list(predictor.image_size),
        "input": {"name": "images", "layout": "NHWC", "dtype": "float32", "range": "RGB 0..255"},
        "batch": None,
        "outputs": sorted(predictor.label_space.names),  # keras.tree.flatten sorts dict keys
        "tasks": tasks_json(predictor.label_space),
    }


def write_artifact(model, fmt: str, out: Path, backend: str) -> None:
    """`model.export` (torch ONNX: `torch_onnx`), with the converters' chatter silenced;
    VerificationError with one line naming format and backend when the converter fails."""
    model(np.zeros((1, *model.input_shape[1:]), np.float32))  # exporters refuse a never-called model
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed" notes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if fmt == "onnx" and backend == "torch":
                from zoo.inference.torch_onnx import export_torch_onnx

                export_torch_onnx(model, out, tuple(model.input_shape[1:3]))
                return
            if fmt == "onnx" and backend == "tensorflow":
                from zoo.inference.tf2onnx_erfc import teach_tf2onnx_erfc

                teach_tf2onnx_erfc()
            model.export(str(out), format=fmt, verbose=False)
        except Exception as exc:  # any converter failure
            raise VerificationError(f"model.export(format={fmt!r}) failed on {backend}: "
                                    f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc


def export(model_file, fmt: str, out, *, count: int = CHECK_IMAGES, tolerance: float = TOLERANCE) -> dict:
    """Export `model_file` to `out`, write the sidecar, verify the artifact on `count` images
    in one call (see `zoo.inference.verify.verify` for the report); raises VerificationError."""
    import keras

    import zoo
    from zoo.inference.float32 import as_float32
    from zoo.inference.keras_predictor import KerasPredictor

    out = check_request(fmt, out, keras.backend.backend())
    loaded = zoo.load_model(model_file, compile=False)
    predictor = KerasPredictor(as_float32(loaded))
    meta = model_metadata(predictor, fmt, model_file)
    meta["trained_precision"] = "float32" if predictor.model is loaded else "mixed (exported in float32)"
    images = check_images(model_file, predictor.image_size, count)
    write_artifact(predictor.model, fmt, out, meta["backend"])
    write_sidecar(out, meta)
    return verify(out, keras_predictor=predictor, images=images, tolerance=tolerance)
