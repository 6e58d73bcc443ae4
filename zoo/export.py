"""`python -m zoo export MODEL.keras --format F --out PATH`: Keras' `model.export`,
then the artifact is run by its own runtime and compared with Keras.

Formats and the backends that can write them with Keras 3.15's `model.export`
(and the `export` extra's packages):

    onnx            jax (jax2onnx), tensorflow (tf2onnx), torch (torch.onnx; fixed batch 1)
    tf_saved_model  tensorflow, jax (jax2tf)         torch needs torch_xla
    openvino        tensorflow                       jax: jax2tf's XlaCallModule is not
                                                     readable by OpenVINO; torch: jit.trace
                                                     refuses the dict of heads
    litert          tensorflow                       torch needs litert-torch

Right after writing, the artifact runs in ONNX Runtime / TensorFlow / the
OpenVINO runtime / the LiteRT interpreter (`ai_edge_litert`) on a few images
(test images of the model's dataset when its run folder names one, else
synthetic ones) and must match Keras' float32 outputs: max |delta| <= 1e-4 in
probabilities, and in years relative to their size. A mismatch exits 1 with
one line (the artifact stays for inspection).

What the artifact needs to be used (class names per head, task kinds, year
scaling, input size, output order) travels in a sidecar JSON
(`<out>.zoo.json`, or `zoo.json` inside a SavedModel folder) and, for ONNX,
also in the model's `metadata_props` (key "zoo"); ONNX outputs are renamed
to the head names ("artist", "movement", "year").
"""

import json
import logging
import os
import sys
import warnings
from pathlib import Path

import numpy as np

FORMATS = ("onnx", "tf_saved_model", "openvino", "litert")
# Backends whose `model.export` writes each format here (see the module docstring).
EXPORTERS = {
    "onnx": ("jax", "tensorflow", "torch"),
    "tf_saved_model": ("tensorflow", "jax"),
    "openvino": ("tensorflow",),
    "litert": ("tensorflow",),
}
SUFFIX = {"onnx": ".onnx", "openvino": ".xml", "litert": ".tflite", "tf_saved_model": ""}
TOLERANCE = 1e-4  # fp32: probabilities absolute, regression outputs relative to their size
CHECK_IMAGES = 4
SIDECAR_KEY = "zoo"  # ONNX metadata_props key holding the sidecar JSON


class VerificationError(Exception):
    """Export failed, or the artifact does not reproduce Keras' outputs (exit 1)."""


def sidecar_path(artifact) -> Path:
    """`<out>.zoo.json` beside a file artifact; `<out>/zoo.json` inside a SavedModel folder."""
    artifact = Path(artifact)
    return artifact / "zoo.json" if artifact.is_dir() else Path(f"{artifact}.zoo.json")


def read_sidecar(path) -> dict:
    """The metadata of an exported artifact (the artifact's path or its sidecar's).

    Keys: format, backend, source_model, keras_version, input_size [H, W],
    input {name, layout, dtype, range}, batch (null = any, else fixed),
    outputs (head names in the artifact's output order), tasks {name: {kind,
    class_names | center, scale}}, verification {runtime, images, max_abs_diff...}.
    """
    path = Path(path)
    side = path if path.name.endswith("zoo.json") else sidecar_path(path)
    if not side.is_file() and path.suffix == ".onnx" and path.is_file():
        import onnx  # the sidecar travels inside the ONNX file too

        props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
        if SIDECAR_KEY in props:
            return json.loads(props[SIDECAR_KEY])
    try:
        meta = json.loads(side.read_text())
    except FileNotFoundError:
        raise ValueError(f"{side}: no export sidecar (export the model with `python -m zoo export`)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{side}: unreadable export sidecar ({exc})") from None
    missing = {"format", "input_size", "outputs", "tasks"} - set(meta)
    if missing:
        raise ValueError(f"{side}: export sidecar lacks {', '.join(sorted(missing))}")
    return meta


def model_metadata(model, fmt: str, model_file) -> dict:
    """The sidecar's content for a zoo model (before verification)."""
    import keras

    tasks = {}
    for name in model.output_names:
        head = model.get_layer(name)
        if head.is_regression:
            tasks[name] = {"kind": "regression", "center": head.center, "scale": head.scale}
        else:
            tasks[name] = {"kind": "classification", "class_names": list(head.class_names)}
    return {
        "format": fmt,
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "source_model": str(Path(model_file).resolve()),
        "model_name": model.name,
        "input_size": list(model.input_shape[1:3]),
        "input": {"name": "images", "layout": "NHWC", "dtype": "float32", "range": "RGB 0..255"},
        "batch": None,
        "outputs": _flat_output_order(model),
        "tasks": tasks,
    }


def _flat_output_order(model) -> list[str]:
    """Head names in the order Keras flattens the output dict (the exporters' output order)."""
    return sorted(model.output_names)  # keras.tree.flatten sorts dict keys


# ---------------------------------------------------------------- runtimes


class _Runner:
    """Runs an exported artifact: float32 `(B, H, W, 3)` 0..255 -> {head: (B, n)}.

    A fixed-batch artifact (torch's ONNX, LiteRT) is fed one image at a time.
    """

    batch: int | None = None

    def __init__(self, path, meta: dict | None = None):
        self.path = Path(path)
        self.meta = meta if meta is not None else read_sidecar(path)
        self.input_size = tuple(self.meta["input_size"])
        self.heads = list(self.meta["outputs"])

    def predict(self, images: np.ndarray) -> dict[str, np.ndarray]:
        images = np.asarray(images, dtype=np.float32)
        if images.ndim != 4 or tuple(images.shape[1:]) != (*self.input_size, 3):
            raise ValueError(f"{self.path}: expects images (B, {self.input_size[0]}, "
                             f"{self.input_size[1]}, 3), got {images.shape}")
        step = self.batch or len(images)
        parts = [self._run(images[i:i + step]) for i in range(0, len(images), step)]
        return {k: np.concatenate([p[k] for p in parts]) for k in self.heads}

    def _by_name_or_order(self, names: list[str], values: list) -> dict[str, np.ndarray]:
        """Outputs keyed by head name: by their names when they are the heads', else by order."""
        if set(names) >= set(self.heads):
            return {n: np.asarray(v) for n, v in zip(names, values, strict=True) if n in self.heads}
        return {h: np.asarray(v) for h, v in zip(self.heads, values, strict=True)}


class OnnxPredictor(_Runner):
    """ONNX Runtime session over an exported `.onnx` (metadata from its sidecar or metadata_props)."""

    def __init__(self, path, meta: dict | None = None):
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise ValueError(f"{path}: no such ONNX file")
        super().__init__(path, meta)
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        first = self.session.get_inputs()[0].shape[0]
        self.batch = first if isinstance(first, int) else None
        self.output_names = [o.name for o in self.session.get_outputs()]

    def _run(self, images):
        values = self.session.run(None, {self.input_name: images})
        return self._by_name_or_order(self.output_names, values)


class SavedModelRunner(_Runner):
    """TensorFlow's loader over a SavedModel folder (its `serve` endpoint)."""

    def __init__(self, path, meta=None):
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


class OpenVinoRunner(_Runner):
    """The OpenVINO runtime (CPU) over an IR `.xml` + `.bin`."""

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


class LiteRtRunner(_Runner):
    """The LiteRT interpreter (`ai_edge_litert`) over a `.tflite`, one image at a time."""

    batch = 1

    def __init__(self, path, meta=None):
        from ai_edge_litert.interpreter import Interpreter

        super().__init__(path, meta)
        self.interpreter = Interpreter(model_path=str(path))
        self.runner = self.interpreter.get_signature_runner()
        self.input_name = next(iter(self.runner.get_input_details()))

    def _run(self, images):
        out = self.runner(**{self.input_name: images})
        names = sorted(out, key=lambda n: (len(n), n))  # output_0, output_1, ... output_10
        return self._by_name_or_order(names, [out[n] for n in names])


RUNNERS = {"onnx": OnnxPredictor, "tf_saved_model": SavedModelRunner,
           "openvino": OpenVinoRunner, "litert": LiteRtRunner}
RUNTIME_NAMES = {"onnx": "ONNX Runtime", "tf_saved_model": "TensorFlow SavedModel loader",
                 "openvino": "OpenVINO runtime", "litert": "LiteRT interpreter"}


# ---------------------------------------------------------------- export + verification


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


def check_images(model_file, size, count: int = CHECK_IMAGES) -> tuple[np.ndarray, str]:
    """`(count, H, W, 3)` float32 0..255 images and where they came from: test images of the
    dataset named by the run folder's config.json when readable, else seeded synthetic ones."""
    from data_tools.preprocess import load_image

    try:
        config = json.loads((Path(model_file).parent / "config.json").read_text())
        from data_tools.manifest import read_manifest

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


def _finish_onnx(path: Path, meta: dict) -> None:
    """Add what Keras' ONNX export lacks: outputs named after the heads, and the metadata.

    Hand-written (onnx's own API): an Identity node per output carries the head's name.
    """
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    if [o.name for o in graph.output] != meta["outputs"]:
        for output, head in zip(graph.output, meta["outputs"], strict=True):
            graph.node.append(onnx.helper.make_node("Identity", [output.name], [head], name=f"{head}_out"))
            output.name = head
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, {SIDECAR_KEY: json.dumps(meta)})
    onnx.save(model, str(path))


def _float32_config(config):
    """`config` with every mixed-precision DTypePolicy ("mixed_bfloat16", ...) set to float32."""
    if isinstance(config, list):
        return [_float32_config(c) for c in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "DTypePolicy" and str(config["config"]["name"]).startswith("mixed_"):
        return {**config, "config": {**config["config"], "name": "float32"}}
    return {k: _float32_config(v) for k, v in config.items()}


def as_float32(model):
    """`model`, or for a mixed-precision one the same network and weights computing in float32:
    Keras' exporters need a float32 model (its variables are float32 already)."""
    if all(layer.dtype_policy.name == "float32" for layer in model._flatten_layers()):
        return model
    clone = model.__class__.from_config(_float32_config(model.get_config()))
    clone.set_weights(model.get_weights())
    return clone


def _teach_tf2onnx_erfc() -> None:
    """tf2onnx 1.17 has no converter for TF's Erfc, which Keras' exact GELU (ViT MLPs) uses
    on the tensorflow backend; register one: erfc(x) = 1 - erf(x) (ONNX Erf, opset >= 9).
    Backend-specific edge: only the tensorflow ONNX path goes through tf2onnx."""
    from tf2onnx import handler, utils

    if any("Erfc" in ops for ops in handler.tf_op.get_opsets().get("", [])):
        return

    @handler.tf_op("Erfc")
    class _Erfc:
        @classmethod
        def version_9(cls, ctx, node, **kwargs):
            node.type = "Erf"
            one = ctx.make_const(utils.make_name("erfc_one"), np.array(1.0, dtype=np.float32))
            ctx.insert_new_node_on_output("Sub", node.output[0], inputs=[one.output[0], node.output[0]])


def _input_signature(model, fmt: str, backend: str):
    """Keras' inferred signature (any batch), except torch's ONNX: the dynamo exporter that
    Keras uses for torch needs a static shape, so the batch is fixed to 1."""
    import keras

    if backend == "torch" and fmt == "onnx":
        return [keras.InputSpec(shape=(1, *model.input_shape[1:]), dtype="float32", name="images")]
    return None


def export(model_file, fmt: str, out, *, count: int = CHECK_IMAGES, tolerance: float = TOLERANCE) -> dict:
    """Export `model_file` with `model.export`, write the sidecar, run the artifact in its
    own runtime and compare with Keras. Returns the report (paths, max diffs, images used);
    raises VerificationError when a head differs by more than `tolerance`."""
    import keras

    import zoo

    out = check_request(fmt, out, keras.backend.backend())
    loaded = zoo.load_model(model_file, compile=False)
    model = as_float32(loaded)
    meta = model_metadata(model, fmt, model_file)
    meta["trained_precision"] = "float32" if model is loaded else "mixed (exported in float32)"
    images, source = check_images(model_file, tuple(meta["input_size"]), count)
    reference = {k: np.asarray(v) for k, v in model.predict_on_batch(images).items()}
    model(images[:1])  # Keras' exporters refuse a model that was never called
    signature = _input_signature(model, fmt, meta["backend"])
    if signature:
        meta["batch"] = signature[0].shape[0]
    if fmt == "onnx" and meta["backend"] == "tensorflow":
        _teach_tf2onnx_erfc()
    # The converters' deprecation chatter and torch.onnx's "torchvision is not installed" notes.
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.export(str(out), format=fmt, verbose=False, input_signature=signature)
        except Exception as exc:  # any converter failure -> one line naming format and backend
            raise VerificationError(f"model.export(format={fmt!r}) failed on {meta['backend']}: "
                                    f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc
    if fmt == "onnx":
        _finish_onnx(out, meta)
    sidecar_path(out).write_text(json.dumps(meta, indent=1))
    return verify(out, model=model, images=(images, source), reference=reference, tolerance=tolerance)


def verify(artifact, *, model=None, images=None, reference=None, tolerance: float = TOLERANCE) -> dict:
    """Run `artifact` in its own runtime and compare with Keras (the sidecar's source model
    unless `model` is given); record the result in the sidecar. Returns the report
    {artifact, sidecar, runtime, images, max_abs_diff, tolerance}; raises VerificationError."""
    import zoo

    meta = read_sidecar(artifact)
    fmt = meta["format"]
    if model is None:
        model = as_float32(zoo.load_model(meta["source_model"], compile=False))
    if images is None:
        images = check_images(meta["source_model"], tuple(meta["input_size"]))
    pixels, source = images
    if reference is None:
        reference = {k: np.asarray(v) for k, v in model.predict_on_batch(pixels).items()}
    try:
        got = RUNNERS[fmt](artifact, meta).predict(pixels)
    except Exception as exc:  # the runtime cannot load or run what was written
        # e.g. tf2onnx leaves EfficientNet's Normalization constants as graph inputs;
        # the jax and torch exporters write that model correctly
        hint = "; try --backend jax or torch" if fmt == "onnx" and meta.get("backend") == "tensorflow" else ""
        raise VerificationError(f"{artifact}: {RUNTIME_NAMES[fmt]} cannot run it: "
                                f"{type(exc).__name__}: {exc}".splitlines()[0] + hint) from exc
    diffs = compare(reference, got, meta)
    meta["verification"] = {"runtime": RUNTIME_NAMES[fmt], "images": source,
                            "max_abs_diff": diffs, "tolerance": tolerance,
                            "passed": all(v <= tolerance for v in diffs.values())}
    side = sidecar_path(artifact)
    side.write_text(json.dumps(meta, indent=1))
    if fmt == "onnx":
        _finish_onnx(Path(artifact), meta)
    if not meta["verification"]["passed"]:
        worst = max(diffs, key=diffs.get)
        raise VerificationError(f"{artifact}: {RUNTIME_NAMES[fmt]} differs from Keras on {source}: "
                                f"{worst} max |delta| {diffs[worst]:.2e} > {tolerance:g} (artifact kept)")
    return {"artifact": str(artifact), "sidecar": str(side), **meta["verification"]}


def main(argv) -> int:
    """`python -m zoo export MODEL.keras --format F --out PATH [--backend B]`."""
    from zoo.cli import Parser, _use_backend

    p = Parser(prog="python -m zoo export",
               description="Export a zoo model with Keras' model.export and verify it in its own runtime.")
    p.add_argument("model_file", help="a saved zoo model (.keras)")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--out", required=True, help="artifact path (.onnx, .xml, .tflite; a folder for tf_saved_model)")
    p.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "jax"),
                   help="backend that runs model.export (default: the model's recorded one)")
    args = p.parse_args(argv)
    check_request(args.format, args.out, args.backend)
    _use_backend(args.backend)
    if not Path(args.model_file).is_file():
        raise ValueError(f"{args.model_file}: model file not found")
    from rich.console import Console

    console = Console(stderr=True)
    with console.status(f"exporting {args.model_file} to {args.format} on {args.backend}"):
        try:
            report = export(args.model_file, args.format, args.out)
        except VerificationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    diffs = ", ".join(f"{k} {v:.1e}" for k, v in report["max_abs_diff"].items())
    print(f"{report['artifact']}: verified by {report['runtime']} on {report['images']}: "
          f"max |delta| {diffs} (<= {report['tolerance']:g}); metadata in {report['sidecar']}")
    return 0
