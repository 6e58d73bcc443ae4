"""Exported artifacts as Predictors, each in its own runtime (CPU, float32):
ONNX Runtime (`.onnx`), OpenVINO (`.xml` + `.bin`), LiteRT (`.tflite`, `ai_edge_litert`)
and TensorFlow's SavedModel loader (a folder). Metadata (label space, input size, output
order) comes from the artifact's sidecar (`zoo.inference.sidecar`).
"""

from pathlib import Path

import numpy as np

from zoo.inference import sidecar
from zoo.inference.batching import checked_images, in_batches

RUNTIME_NAMES = {"onnx": "ONNX Runtime", "tf_saved_model": "TensorFlow SavedModel loader",
                 "openvino": "OpenVINO runtime", "litert": "LiteRT interpreter"}
SUFFIXES = {".onnx": "onnx", ".xml": "openvino", ".tflite": "litert"}


def format_of(path) -> str | None:
    """The export format of artifact `path` by its name, or None."""
    path = Path(path)
    if path.is_dir():
        return "tf_saved_model" if (path / "saved_model.pb").is_file() else None
    return SUFFIXES.get(path.suffix)


class ArtifactPredictor:
    """Common part: the sidecar's metadata, the shape check, the chunker (`batch`: the
    artifact's fixed batch size, None when it takes any), outputs keyed by head."""

    runtime = ""
    batch: int | None = None

    def __init__(self, path, meta: dict | None = None):
        self.path = Path(path)
        if not (self.path.is_file() or self.path.is_dir()):
            raise ValueError(f"{self.path}: no such {RUNTIME_NAMES[self.runtime]} artifact")
        self.meta = meta if meta is not None else sidecar.read_sidecar(path)
        self.image_size = tuple(self.meta["input_size"])
        self.label_space = sidecar.label_space(self.meta)
        self.name = self.meta.get("model_name", self.path.stem)
        self.heads = list(self.meta["outputs"])
        self.calibration = self.meta.get("calibration")  # zoo.calibration.store's record, or None

    def predict(self, images) -> dict[str, np.ndarray]:
        images = checked_images(images, self.image_size, self.path)
        return in_batches(self._run, images, self.batch)

    def _run(self, images: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _by_name_or_order(self, names: list[str], values: list) -> dict[str, np.ndarray]:
        """Outputs keyed by head name: by their names when they are the heads', else by order."""
        if set(names) >= set(self.heads):
            return {n: np.asarray(v) for n, v in zip(names, values, strict=True) if n in self.heads}
        return {h: np.asarray(v) for h, v in zip(self.heads, values, strict=True)}


class OnnxPredictor(ArtifactPredictor):
    """ONNX Runtime session (metadata from the sidecar or the file's metadata_props)."""

    runtime = "onnx"

    def __init__(self, path, meta: dict | None = None):
        import onnxruntime as ort

        super().__init__(path, meta)
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        first = self.session.get_inputs()[0].shape[0]
        self.batch = first if isinstance(first, int) else None
        self.output_names = [o.name for o in self.session.get_outputs()]

    def _run(self, images):
        return self._by_name_or_order(self.output_names, self.session.run(None, {self.input_name: images}))


class SavedModelPredictor(ArtifactPredictor):
    """TensorFlow's loader over a SavedModel folder (its `serve` endpoint)."""

    runtime = "tf_saved_model"

    def __init__(self, path, meta=None):
        # backend-edge: a SavedModel runs only in TensorFlow's own runtime, whatever the Keras backend
        import tensorflow as tf

        super().__init__(path, meta)
        self.tf = tf
        self.loaded = tf.saved_model.load(str(path))

    def _run(self, images):
        out = self.loaded.serve(self.tf.constant(images))
        if isinstance(out, dict):
            return self._by_name_or_order(list(out), [v.numpy() for v in out.values()])
        out = out if isinstance(out, list | tuple) else [out]
        return self._by_name_or_order([], [v.numpy() for v in out])


class OpenVinoPredictor(ArtifactPredictor):
    """The OpenVINO runtime (CPU) over an IR `.xml` + `.bin`."""

    runtime = "openvino"

    def __init__(self, path, meta=None):
        import openvino as ov

        super().__init__(path, meta)
        core = ov.Core()
        # fp32 as exported: OpenVINO's CPU plugin would otherwise run bf16 on AMX/AVX512-BF16 CPUs
        self.compiled = core.compile_model(core.read_model(str(path)), "CPU",
                                           {"INFERENCE_PRECISION_HINT": "f32"})
        shape = self.compiled.inputs[0].get_partial_shape()
        self.batch = None if shape[0].is_dynamic else shape[0].get_length()

    def _run(self, images):
        result = self.compiled(images)
        names = [next(iter(o.get_names()), "") for o in self.compiled.outputs]
        return self._by_name_or_order(names, [result[o] for o in self.compiled.outputs])


class LiteRtPredictor(ArtifactPredictor):
    """The LiteRT interpreter (`ai_edge_litert`) over a `.tflite`; its signature runner
    resizes the input to each batch when the file's batch dimension is free (-1)."""

    runtime = "litert"

    def __init__(self, path, meta=None):
        from ai_edge_litert.interpreter import Interpreter

        super().__init__(path, meta)
        self.interpreter = Interpreter(model_path=str(path))
        self.runner = self.interpreter.get_signature_runner()
        self.input_name, detail = next(iter(self.runner.get_input_details().items()))
        signature = detail.get("shape_signature", detail["shape"])
        self.batch = None if signature[0] == -1 else int(detail["shape"][0])

    def _run(self, images):
        out = self.runner(**{self.input_name: images})
        names = sorted(out, key=lambda n: (len(n), n))  # output_0, output_1, ... output_10
        return self._by_name_or_order(names, [out[n] for n in names])


RUNNERS = {"onnx": OnnxPredictor, "tf_saved_model": SavedModelPredictor,
           "openvino": OpenVinoPredictor, "litert": LiteRtPredictor}
