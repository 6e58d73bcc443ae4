"""The export sidecar: what an exported artifact needs to be used, in one JSON object.

Written as `<artifact>.zoo.json` beside a file artifact, `<artifact>/zoo.json` inside a
SavedModel folder, and for ONNX also inside the model (`metadata_props` key "zoo", so a
lone `.onnx` still describes itself). Keys:

    format, backend, source_model (relative to the artifact's folder), keras_version, model_name, input_size [H, W],
    input {name, layout, dtype, range}, batch (null = any size, else the fixed size),
    outputs (head names in the artifact's output order), trained_precision,
    tasks {name: {kind: "classification", class_names} | {kind: "regression", center, scale}},
    verification {runtime, images, max_abs_diff {head: float}, tolerance, passed,
                  as_trained {dtype_policy, max_abs_diff {head: float}} (null for a float32 model)},
    calibration (a calibrated model only: `zoo.calibration.store`'s record, the temperatures
                 it lists already inside the artifact's graph; the sets and unknown threshold
                 every runtime applies to the outputs)
"""

import json
import os
from pathlib import Path

from data_tools.files import write_atomic
from data_tools.labels import LabelSpace, Task

SIDECAR_KEY = "zoo"  # ONNX metadata_props key holding the sidecar JSON
REQUIRED = ("format", "input_size", "outputs", "tasks")


def sidecar_path(artifact) -> Path:
    """`<out>.zoo.json` beside a file artifact; `<out>/zoo.json` inside a SavedModel folder."""
    artifact = Path(artifact)
    return artifact / "zoo.json" if artifact.is_dir() else Path(f"{artifact}.zoo.json")


def read_sidecar(path) -> dict:
    """The metadata of an exported artifact (the artifact's path or its sidecar's);
    ValueError when there is none or it is unreadable."""
    path = Path(path)
    side = path if path.name.endswith("zoo.json") else sidecar_path(path)
    if not side.is_file() and path.suffix == ".onnx" and path.is_file():
        embedded = _onnx_metadata(path)
        if embedded is not None:
            return embedded
    try:
        meta = json.loads(side.read_text())
    except FileNotFoundError:
        raise ValueError(f"{side}: no export sidecar (export the model with `python -m zoo export`)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{side}: unreadable export sidecar ({exc})") from None
    missing = set(REQUIRED) - set(meta)
    if missing:
        raise ValueError(f"{side}: export sidecar lacks {', '.join(sorted(missing))}")
    return meta


def write_sidecar(artifact, meta: dict) -> Path:
    """Write `meta` beside (or inside) `artifact`, and into an ONNX file's metadata."""
    side = write_atomic(sidecar_path(artifact), json.dumps(meta, indent=1))
    if Path(artifact).suffix == ".onnx":
        _write_onnx_metadata(Path(artifact), meta)
    return side


def relative_source(model_file, artifact) -> str:
    """The sidecar's `source_model`: `model_file` relative to the artifact's folder, so a
    moved or copied project keeps the link (absolute when on another drive)."""
    target, base = Path(model_file).resolve(), Path(artifact).resolve().parent
    try:
        return os.path.relpath(target, base)
    except ValueError:  # another drive (Windows)
        return str(target)


def source_model(artifact, meta: dict) -> Path:
    """The `.keras` file `artifact` (the artifact's path) was exported from: `source_model`
    resolved against the artifact's folder (an absolute one, as older sidecars store, is kept)."""
    return Path(artifact).parent / meta["source_model"]


def tasks_json(label_space: LabelSpace) -> dict:
    """The sidecar's `tasks` for a label space."""
    return {t.name: ({"kind": "regression", "center": t.center, "scale": t.scale} if t.is_regression
                     else {"kind": "classification", "class_names": list(t.classes)})
            for t in label_space.tasks}


def label_space(meta: dict) -> LabelSpace:
    """The label space a sidecar describes (inverse of `tasks_json`)."""
    return LabelSpace(tuple(
        Task(name, (), float(t["center"]), float(t["scale"])) if t["kind"] == "regression"
        else Task(name, tuple(t["class_names"])) for name, t in meta["tasks"].items()))


def _onnx_metadata(path: Path) -> dict | None:
    import onnx

    props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    return json.loads(props[SIDECAR_KEY]) if SIDECAR_KEY in props else None


def _write_onnx_metadata(path: Path, meta: dict) -> None:
    """Name the ONNX outputs after the heads (an Identity node each, where the exporter
    named them otherwise) and store `meta` in `metadata_props`."""
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
