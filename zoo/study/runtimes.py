"""Inference img/s of one saved model in Keras vs ONNX Runtime vs OpenVINO, batch 1 and 32.

The ONNX and OpenVINO artifacts are written by `python -m zoo export --backend tensorflow`
(child processes; both verified against Keras, both with a free batch dimension), so the
three runtimes run the same weights. Keras runs `predict_on_batch` on this process's
backend, in float32 like the artifacts (a mixed-precision model is rebuilt in float32).
Each runtime: `warmup` untimed calls, then img/s = batch / median of `steps` timed calls
on the same random float32 batch (0..255 pixels).

    python -m zoo bench --runtimes MODEL.keras --backends jax   # or --runtimes auto (the default)
"""

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

RUNTIMES = ("keras", "onnxruntime", "openvino")
EXPORTS = {"onnxruntime": ("onnx", "model.onnx"), "openvino": ("openvino", "model.xml")}


def cpu_name() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else platform.processor()."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def export_artifacts(model_file, workdir: Path, console: Console | None = None) -> dict[str, Path]:
    """ONNX and OpenVINO IR of `model_file` in `workdir`, each exported (tensorflow backend)
    and verified by `python -m zoo export`. Returns runtime name -> artifact path."""
    paths = {}
    for runtime, (fmt, name) in EXPORTS.items():
        out = Path(workdir) / name
        env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
        cmd = [sys.executable, "-m", "zoo", "export", str(model_file), "--format", fmt,
               "--out", str(out), "--backend", "tensorflow"]
        with (console or Console(stderr=True)).status(f"exporting {fmt} for the {runtime} timing"):
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"]
            raise RuntimeError(f"export to {fmt} failed: {lines[-1]}")
        paths[runtime] = out
    return paths


def _median_img_s(step, batch: int, steps: int, warmup: int) -> tuple[float, float]:
    """(img/s from the median step, first-call seconds)."""
    start = time.perf_counter()
    step()
    first = time.perf_counter() - start
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return batch / statistics.median(times), first


def runtime_rows(model_file, batch_sizes=(1, 32), steps: int = 20, warmup: int = 3,
                 workdir=None, console: Console | None = None) -> list[dict]:
    """One row per runtime x batch size: {runtime, backend, batch, img_s, first_call_s, cpu,
    threads, model}. Keras runs on this process's backend; the artifacts go to `workdir`
    (a temporary folder when None)."""
    import zoo
    from zoo.inference.float32 import as_float32
    from zoo.inference.keras_predictor import KerasPredictor
    from zoo.inference.predictor import open_predictor

    with tempfile.TemporaryDirectory(prefix="zoo-runtimes-") as tmp:
        paths = export_artifacts(model_file, Path(workdir or tmp), console)
        # float32 like the exported artifacts, so that all three run the same arithmetic
        keras_predictor = KerasPredictor(as_float32(zoo.load_model(model_file, compile=False)))
        predictors = {"keras": keras_predictor, **{r: open_predictor(p) for r, p in paths.items()}}
        size = keras_predictor.image_size
        rows = []
        for batch in batch_sizes:
            images = np.random.default_rng(0).uniform(0, 255, (batch, *size, 3)).astype(np.float32)
            for runtime in RUNTIMES:
                step = lambda run=predictors[runtime].predict, x=images: run(x)  # noqa: E731
                img_s, first = _median_img_s(step, batch, steps, warmup)
                rows.append({"model": keras_predictor.name, "runtime": runtime,
                             "backend": keras_predictor.backend if runtime == "keras" else "-",
                             "batch": batch, "img_s": round(img_s, 1), "first_call_s": round(first, 3),
                             "image_size": list(size), "cpu": cpu_name(), "threads": os.cpu_count()})
    return rows


def print_table(rows: list[dict], console: Console | None = None) -> None:
    """A rich table: runtime x batch -> img/s and the speed-up over Keras at that batch."""
    console = console or Console()
    keras_speed = {r["batch"]: r["img_s"] for r in rows if r["runtime"] == "keras"}
    first = rows[0] if rows else {}
    table = Table(title=f"inference img/s, {first.get('model', '')} "
                        f"{'x'.join(map(str, first.get('image_size', [])))} px, float32, "
                        f"{first.get('cpu', '')} ({first.get('threads', '?')} threads)")
    for column in ("runtime", "backend", "batch", "img/s", "vs Keras", "first call s"):
        table.add_column(column, justify="left" if column in ("runtime", "backend") else "right")
    for r in rows:
        ratio = r["img_s"] / keras_speed[r["batch"]] if keras_speed.get(r["batch"]) else float("nan")
        table.add_row(r["runtime"], r["backend"], str(r["batch"]), f"{r['img_s']:.1f}",
                      f"{ratio:.2f}x", f"{r['first_call_s']:.2f}")
    console.print(table)
