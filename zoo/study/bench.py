"""`python -m zoo bench`: training and inference img/s of zoo models next to the same
`keras.applications` model (with the same head) on the same backend.

Each model x backend x implementation runs in its own process on random data:
`train_on_batch` / `predict_on_batch` steps; the first step's time is the compile
time, the next `--warmup` are discarded, img/s is batch / median of `--steps`
timed steps. Peak memory is the process's peak RSS. Writes a rich table and JSON.

The zoo/keras.applications ratio comes from one more process per model x backend
that holds both models and alternates their steps (zoo, app, app, zoo, ...), so
that drift in the machine's speed (shared cores) hits both alike: the ratio is the
median of the per-pair step-time ratios. Separate processes differ by +-20 % here.
"""

import argparse
import json
import os
import platform
import re
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from zoo.backend_select import BACKENDS
from zoo.cli import Parser, UsageError
from zoo.heads import DEFAULT_TASKS
from zoo.study.batch import random_batch
from zoo.study.child import child_env, run_child
from zoo.study.options import check_backends, comma_list, study_console

# Environment variables that change speed; recorded with every result.
SPEED_ENV = ("XLA_FLAGS", "TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
             "OMP_NUM_THREADS")
IMPLS = ("zoo", "keras.applications")
PAIRED = "paired"  # internal: both implementations in one process, steps alternating


def application_name(model: str) -> str | None:
    """The `keras.applications` constructor of a zoo model name, or None (e.g. ViT)."""
    if m := re.fullmatch(r"resnet(\d+)", model):
        return f"ResNet{m[1]}"
    if m := re.fullmatch(r"efficientnet_b(\d)", model):
        return f"EfficientNetB{m[1]}"
    if m := re.fullmatch(r"efficientnetv2_(\w+)", model):
        return f"EfficientNetV2{m[1].upper()}"
    return None


def _build(model_name: str, impl: str, size: int):
    """The zoo model, or the keras.applications backbone + the zoo's multi-task head."""
    import keras

    import zoo
    from zoo.heads import multitask_head, normalize_tasks

    if impl == "zoo":
        return zoo.build(model_name, input_shape=(size, size, 3))
    app = getattr(keras.applications, application_name(model_name))
    net = app(include_top=False, weights=None, input_shape=(size, size, 3), pooling="avg")
    return keras.Model(net.input, multitask_head(net.output, normalize_tasks(DEFAULT_TASKS)))


def _timed(step, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def _backend_info() -> dict:
    """Versions and thread settings of Keras and the backend library, for the report."""
    import keras

    backend = keras.backend.backend()
    info = {"keras_version": keras.__version__}
    if backend == "torch":
        import torch  # backend-edge: torch's version and intra-op thread count

        return {**info, "backend_version": torch.__version__, "torch_threads": torch.get_num_threads()}
    if backend == "tensorflow":
        import tensorflow as tf  # backend-edge: TF's version and thread pools (0 = one per core)

        return {**info, "backend_version": tf.__version__,
                "tf_intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                "tf_inter_op": tf.config.threading.get_inter_op_parallelism_threads()}
    import jax  # backend-edge: jax's version

    return {**info, "backend_version": jax.__version__}


def _compiled(args, impl: str):
    """The model of `impl`, compiled as the training loop compiles it."""
    import keras

    from recipes import Recipe
    from zoo.training.loop import compile_model

    keras.utils.set_random_seed(0)
    model = _build(args.worker, impl, args.image_size)
    compile_model(model, Recipe(batch_size=args.batch_size, image_size=args.image_size), 100)
    if args.jit != "auto":
        model.jit_compile = args.jit == "on"
    return model


def paired_worker(args) -> dict:
    """The zoo model's speed relative to keras.applications (their step-time ratio,
    > 1: the zoo is faster), both in this process, steps alternating zoo-app, app-zoo."""
    models = {impl: _compiled(args, impl) for impl in IMPLS}
    x, y = random_batch(args.batch_size, args.image_size, DEFAULT_TASKS)
    ratios = {}
    for phase, step in (("train", lambda m: m.train_on_batch(x, y)), ("infer", lambda m: m.predict_on_batch(x))):
        for _ in range(1 + args.warmup):
            for model in models.values():
                step(model)
        pairs = []
        for i in range(args.steps):
            seconds = {}
            for impl in IMPLS if i % 2 == 0 else IMPLS[::-1]:
                start = time.perf_counter()
                step(models[impl])
                seconds[impl] = time.perf_counter() - start
            pairs.append(seconds["keras.applications"] / seconds["zoo"])  # > 1: the zoo model is faster
        ratios[f"{phase}_vs_reference"] = statistics.median(pairs)
        ratios[f"{phase}_pair_ratios"] = pairs
    return ratios


def worker(args) -> dict:
    """Benchmark one model/impl on this process's backend (runs in a child)."""
    import resource

    import keras

    if args.mixed_precision:
        keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    if args.impl == PAIRED:
        return paired_worker(args)
    model = _compiled(args, args.impl)
    n = args.batch_size
    x, y = random_batch(n, args.image_size, DEFAULT_TASKS)
    train = _timed(lambda: model.train_on_batch(x, y), 1 + args.warmup + args.steps)
    infer = _timed(lambda: model.predict_on_batch(x), 1 + args.warmup + args.steps)
    return {
        "params": int(model.count_params()),
        "compile_s": train[0], "infer_compile_s": infer[0],
        "train_img_s": n / statistics.median(train[1 + args.warmup:]),
        "infer_img_s": n / statistics.median(infer[1 + args.warmup:]),
        "train_step_s": train[1 + args.warmup:], "infer_step_s": infer[1 + args.warmup:],
        "jit_compile": bool(model.jit_compile),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux: KiB
        **_backend_info(),
    }


def parse_args(argv) -> argparse.Namespace:
    p = Parser(prog="python -m zoo bench", description=__doc__.splitlines()[0])
    p.add_argument("--models", type=comma_list, default=["resnet50"], help="comma-separated (default resnet50)")
    p.add_argument("--backends", type=comma_list, default=list(BACKENDS))
    p.add_argument("--image-size", type=int, default=128, help="square side in px (default 128)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--steps", type=int, default=5, help="timed steps (default 5)")
    p.add_argument("--warmup", type=int, default=2, help="steps after the compiling one, not timed")
    p.add_argument("--mixed-precision", action="store_true", help="bf16 compute (mixed_bfloat16)")
    p.add_argument("--jit", choices=["auto", "on", "off"], default="auto",
                   help="model.jit_compile: auto = Keras' choice (JAX: XLA; TF on CPU: graph without "
                        "XLA; torch: eager); on = XLA / torch.compile")
    p.add_argument("--no-reference", action="store_true", help="skip the keras.applications models")
    p.add_argument("--out", default="runs/bench/bench.json", help="JSON file (default runs/bench/bench.json)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds before one measurement is killed")
    p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: the model a child measures
    p.add_argument("--impl", choices=(*IMPLS, PAIRED), default="zoo", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for flag in ("image_size", "batch_size", "steps"):
        if getattr(args, flag) < 1:
            raise UsageError(f"--{flag.replace('_', '-')} must be >= 1")
    if args.warmup < 0:
        raise UsageError("--warmup must be >= 0")
    check_backends(args.backends)
    from zoo import check_input_shape

    for name in args.models:
        check_input_shape(name, (args.image_size,) * 2 + (3,))  # unknown/bad: ValueError, exit 2
    return args


def _child_args(args, model: str, impl: str, result: Path) -> list[str]:
    cmd = ["-m", "zoo", "bench", "--worker", model, "--impl", impl, "--result", str(result),
           "--image-size", str(args.image_size), "--batch-size", str(args.batch_size),
           "--steps", str(args.steps), "--warmup", str(args.warmup), "--jit", args.jit]
    return cmd + (["--mixed-precision"] if args.mixed_precision else [])


def _num(row: dict, key: str, digits: int = 1) -> str:
    return f"{row[key]:.{digits}f}" if row.get(key) is not None else ""


def _table(results: list[dict], title: str) -> Table:
    table = Table(title=title)
    for name in ("model", "backend", "impl", "train img/s", "infer img/s", "zoo/keras.applications (paired)",
                 "compile s", "peak RSS MB", "status"):
        table.add_column(name, justify="left" if name in ("model", "backend", "impl", "status") else "right")
    for r in results:
        ratio = f"{r['train_vs_reference']:.2f}x" if r.get("train_vs_reference") else ""
        table.add_row(r["model"], r["backend"], r["impl"], _num(r, "train_img_s"), _num(r, "infer_img_s"),
                      ratio, _num(r, "compile_s"), _num(r, "peak_rss_mb", 0),
                      r["status"] if r.get("ratio_status", "ok") == "ok" else f"ratio {r['ratio_status']}")
    return table


def _measure(args, console: Console, model: str, backend: str, impl: str) -> dict:
    """One measurement in its own process -> a result row (status "ok" or "failed: ...")."""
    out = Path(args.out)
    tag = f"{model}-{backend}-{impl}"
    result = out.parent / f"{tag}.result.json"
    result.unlink(missing_ok=True)
    load = os.getloadavg()[0]  # other jobs on the machine make the numbers noisy
    with console.status(f"{model} ({impl}) on {backend} ..."):
        res = run_child(_child_args(args, model, impl, result), env=child_env(backend),
                        log_path=out.parent / f"{tag}.log", timeout_s=args.timeout)
    row = {"model": model, "backend": backend, "impl": impl, "wall_s": res.wall_s, "loadavg_1m_before": load}
    if res.returncode == 0 and result.exists():
        row.update(json.loads(result.read_text()), status="ok")
    else:
        row["status"] = f"failed: {res.last_error or f'exit {res.returncode}'}"
    if row["status"] != "ok":
        summary = row["status"]
    elif impl == PAIRED:
        summary = f"zoo/keras.applications: train {row['train_vs_reference']:.2f}x, infer {row['infer_vs_reference']:.2f}x"
    else:
        summary = f"train {row['train_img_s']:.1f} img/s, infer {row['infer_img_s']:.1f} img/s"
    console.print(f"{model:>16} {backend:<10} {impl:<18} {summary}", markup=False)
    return row


def run(args) -> dict:
    """Every requested measurement, each in its own process; returns the JSON report."""
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    console = study_console()
    results = []
    for model in args.models:
        impls = ["zoo"] + ([] if args.no_reference or not application_name(model) else ["keras.applications"])
        for backend in args.backends:
            rows = {impl: _measure(args, console, model, backend, impl) for impl in impls}
            results += rows.values()
            if len(rows) == 2 and all(r["status"] == "ok" for r in rows.values()):
                paired = _measure(args, console, model, backend, PAIRED)
                rows["zoo"]["ratio_status"] = paired["status"]
                rows["zoo"].update({k: v for k, v in paired.items() if "vs_reference" in k or "pair_ratios" in k})
    report = {
        "settings": {"image_size": args.image_size, "batch_size": args.batch_size, "steps": args.steps,
                     "warmup": args.warmup, "mixed_precision": args.mixed_precision, "jit": args.jit,
                     "env": {k: os.environ[k] for k in SPEED_ENV if k in os.environ}},
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "loadavg_at_end": os.getloadavg()},
        "results": results,
    }
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1))
    os.replace(tmp, out)
    title = (f"bench: {args.image_size} px, batch {args.batch_size}, median of {args.steps} steps, "
             f"{'bf16' if args.mixed_precision else 'fp32'}, jit {args.jit} ({out})")
    console.print(_table(results, title))
    return report


def main(argv) -> int:
    args = parse_args(argv)
    if args.worker:
        Path(args.result).write_text(json.dumps(worker(args)))
        return 0
    report = run(args)
    return 0 if all(r["status"] == r.get("ratio_status", "ok") == "ok" for r in report["results"]) else 1

