"""Export a zoo model with Keras' `model.export`, write its sidecar, verify it.

Formats and the backends that write them (Keras 3.15 and the `export` extra's packages):

    onnx            torch (torch.onnx dynamo, see torch_onnx; not SigLIP), tensorflow (tf2onnx; not
                    EfficientNet/ConvNeXt), jax (jax2onnx; not ResNet): see ONNX_REFUSED
    tf_saved_model  tensorflow, jax (jax2tf)         torch needs torch_xla
    openvino        tensorflow                       jax: jax2tf's XlaCallModule is not
                                                     readable by OpenVINO; torch: jit.trace
                                                     refuses the dict of heads
    litert          tensorflow                       torch needs litert-torch

Every artifact has a free batch dimension. Right after writing, it runs in its own runtime
on several images at once and must match Keras (`zoo.inference.verify`); a mismatch
raises MismatchError (the artifact stays for inspection); a converter or runtime failure
raises VerificationError and removes what the export wrote. ONNX outputs are renamed to
the head names and carry the sidecar in `metadata_props` (`zoo.inference.sidecar`).
"""

import json
import logging
import shutil
import warnings
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from zoo.inference.sidecar import relative_source, tasks_json, write_sidecar
from zoo.inference.verify import (
    CHECK_IMAGES,
    TOLERANCE,
    MismatchError,
    VerificationError,
    check_images,
    verify,
)

FORMATS = ("onnx", "tf_saved_model", "openvino", "litert")
# Backends whose `model.export` writes each format here (see the module docstring).
EXPORTERS = {
    "onnx": ("jax", "tensorflow", "torch"),
    "tf_saved_model": ("tensorflow", "jax"),
    "openvino": ("tensorflow",),
    "litert": ("tensorflow",),
}
SUFFIX = {"onnx": ".onnx", "openvino": ".xml", "litert": ".tflite", "tf_saved_model": ""}
# (backend, family) pairs whose ONNX file does not verify here, refused before anything loads
# (every other pair verifies: tests/test_export.py, one model per family from each backend).
ONNX_REFUSED = {
    # jax2onnx 0.17 writes Keras' max pooling (lax.reduce_window over NHWC) as a MaxPool with a
    # 4-D window, batch and channels included; ONNX Runtime takes at most 3 spatial dims.
    ("jax", "resnet"): 'jax2onnx: ONNX Runtime refuses the MaxPool node it writes ("Unsupported pooling size")',
    # tf2onnx 1.17 turns the Normalization layer's mean/variance into graph inputs.
    ("tensorflow", "efficientnet"): "tf2onnx: the pixel Normalization's constants become graph inputs",
    ("tensorflow", "efficientnetv2"): "tf2onnx: the pixel Normalization's constants become graph inputs",
    # Keras' TF depthwise convolution runs as an XLA function tf2onnx cannot convert.
    ("tensorflow", "convnext"): "tf2onnx: the depthwise convolutions (an XLA function call) are not supported",
    # keras-hub 0.32's SigLIP pooling head repeats its probe by the batch (ops.repeat ->
    # torch.repeat_interleave with a symbolic count), which torch.export cannot trace.
    ("torch", "siglip"): "torch.export: keras-hub's SigLIP pooling head repeats its probe by the symbolic batch",
}


def model_family(model_file) -> str | None:
    """The registry family of a saved zoo model (read from the .keras file's config.json,
    without keras), or None when the file is not a readable zoo model."""
    from zoo import registry

    try:
        with zipfile.ZipFile(model_file) as archive:
            name = json.loads(archive.read("config.json"))["config"]["name"]
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile):
        return None
    return next((fam for fams in registry.BUILT_IN.values() for fam, names in fams.items() if name in names), None)


def check_request(fmt: str, out, backend: str, model_file=None) -> Path:
    """`out` as a Path, or ValueError naming what is wrong with the format/backend/path
    (and, given `model_file`, with exporting that model's family from `backend`)."""
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if backend not in EXPORTERS[fmt]:
        raise ValueError(f"--format {fmt} cannot be exported from the {backend} backend with Keras' "
                         f"model.export here; use --backend {EXPORTERS[fmt][0]}")
    family = None if model_file is None else model_family(model_file)
    if fmt == "onnx" and (backend, family) in ONNX_REFUSED:
        others = [b for b in EXPORTERS["onnx"] if b != backend and (b, family) not in ONNX_REFUSED]
        raise ValueError(f"--format onnx of a {family} model cannot be exported from the {backend} backend "
                         f"({ONNX_REFUSED[backend, family]}); use "
                         + " or ".join(f"--backend {b}" for b in sorted(others, key=lambda b: b != "torch")))
    out = Path(out)
    if SUFFIX[fmt] and out.suffix != SUFFIX[fmt]:
        raise ValueError(f"--out {out}: the {fmt} artifact's name must end with {SUFFIX[fmt]}")
    if not SUFFIX[fmt] and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"--out {out}: exists and is not an empty folder (a SavedModel is a folder)")
    existing = next(p for p in out.absolute().parents if p.exists())
    if not existing.is_dir():
        raise ValueError(f"--out {out}: {existing} is a file, not a folder")
    return out


def model_metadata(predictor, fmt: str, model_file, out: Path) -> dict:
    """The sidecar's content for a `KerasPredictor` exported to `out` (before verification)."""
    import keras

    return {
        "format": fmt,
        "backend": predictor.backend,
        "keras_version": keras.__version__,
        "source_model": relative_source(model_file, out),
        "model_name": predictor.name,
        "input_size": list(predictor.image_size),
        "input": {"name": "images", "layout": "NHWC", "dtype": "float32", "range": "RGB 0..255"},
        "batch": None,
        "outputs": sorted(predictor.label_space.names),  # keras.tree.flatten sorts dict keys
        "tasks": tasks_json(predictor.label_space),
        **({"calibration": predictor.calibration} if predictor.calibration else {}),
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

    out = check_request(fmt, out, keras.backend.backend(), model_file)
    loaded = zoo.load_model(model_file, compile=False)
    predictor = KerasPredictor(as_float32(loaded))
    trained = None if predictor.model is loaded else KerasPredictor(loaded)
    meta = model_metadata(predictor, fmt, model_file, out)
    meta["trained_precision"] = "float32" if trained is None else "mixed (exported in float32)"
    images = check_images(model_file, predictor.image_size, count)
    out.parent.mkdir(parents=True, exist_ok=True)
    with removed_on_failure(out):
        write_artifact(predictor.model, fmt, out, meta["backend"])
        write_sidecar(out, meta)
        return verify(out, keras_predictor=predictor, trained_predictor=trained, images=images,
                      tolerance=tolerance)


@contextmanager
def removed_on_failure(out: Path):
    """On an exception other than MismatchError (whose complete artifact stays for inspection),
    remove what was written meanwhile: the new entries of `out`'s folder whose names start
    with the artifact's stem (model.onnx, model.onnx.data, its sidecar, model.bin, a SavedModel
    folder), then re-raise."""
    before = set(out.parent.iterdir())
    try:
        yield
    except MismatchError:
        raise
    except BaseException:
        for path in set(out.parent.iterdir()) - before:
            if path.name.startswith(out.stem):
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        raise
