"""The bench study (`python -m zoo bench`): training and inference img/s and peak memory of zoo models, per
backend, in float32 and in the `auto` precision side by side, with native PyTorch eager on
the same ResNet50 layout as the reference line (`zoo/study/torch_resnet.py`).

Each model x size x batch x backend x precision runs in its own process on random data:
`train_on_batch` / `predict_on_batch` steps; the first step's time is the compile time,
the next `--warmup` are discarded, img/s is batch / median of `--steps` timed steps (the
minimum is in the JSON too). Peak memory: the process's peak RSS, and the device's peak
where there is a GPU. `--memory-only`: two training steps, memory and step time only.

`--applications` adds the same `keras.applications` model (same head) per backend, and one
more process holding both models and alternating their steps (zoo, app, app, zoo, ...), so
that drift in the machine's speed (shared cores) hits both alike: the zoo/applications
ratio is the median of the per-pair step-time ratios.
"""

import json
import os
import platform
import statistics
import time
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console
from rich.table import Table

from data_tools.files import write_atomic
from zoo import registry
from zoo.heads import DEFAULT_TASKS
from zoo.study.batch import random_batch
from zoo.study.child import child_env, run_child
from zoo.study.options import study_console
from zoo.study.worker import command as worker_command

# Environment variables that change speed; recorded with every result.
SPEED_ENV = ("XLA_FLAGS", "TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
             "OMP_NUM_THREADS")
IMPLS = ("zoo", "keras.applications")
PAIRED = "paired"  # internal: both implementations in one process, steps alternating
NATIVE = "torch-native"  # plain PyTorch eager, zoo/study/torch_resnet.py (ResNet50 only)
NATIVE_MODELS = ("resnet50",)


def _build(model_name: str, impl: str, size: int):
    """The zoo model, or the keras.applications backbone (no zoo preprocessing) with the
    zoo's heads."""
    import zoo
    from data_tools.labels import LabelSpace

    if impl == "zoo":
        return zoo.build(model_name, input_shape=(size, size, 3))
    app = registry.get(model_name).application
    net = app(include_top=False, weights=None, input_shape=(size, size, 3), pooling="avg")
    return zoo.ArtistModel(net, LabelSpace.from_tasks(DEFAULT_TASKS), name=model_name)


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


def _device_peak_mb() -> float | None:
    """Peak memory allocated on the first GPU by this process (MB), None without a GPU.

    Backend edge: Keras has no device-memory query; each backend has its own.
    """
    import keras

    backend = keras.backend.backend()
    if backend == "torch":
        import torch  # backend-edge: torch's CUDA allocator peak

        return torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None
    if backend == "tensorflow":
        import tensorflow as tf  # backend-edge: TF's GPU memory info

        if not tf.config.list_physical_devices("GPU"):
            return None
        return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    import jax  # backend-edge: jax's device memory stats

    device = jax.devices()[0]
    stats = device.memory_stats() if device.platform == "gpu" else None
    return stats["peak_bytes_in_use"] / 2**20 if stats else None


def _peak_memory() -> dict:
    import resource

    return {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux: KiB
            "device_peak_mb": _device_peak_mb()}


def _compiled(args, impl: str):
    """The model of `impl`, compiled as the training loop compiles it."""
    import keras

    from recipes import Recipe
    from zoo.training.loop import compile_model

    keras.utils.set_random_seed(0)
    model = _build(args.model, impl, args.image_size)
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


def _speeds(args, train, infer=None) -> dict:
    """img/s (batch / median step), step lists and the first (compiling) step of timings."""
    n, skip = args.batch_size, 1 + args.warmup
    out = {"compile_s": train[0], "train_step_s": train[skip:], "train_img_s": n / statistics.median(train[skip:]),
           "train_img_s_best": n / min(train[skip:])}
    if infer:
        out.update(infer_compile_s=infer[0], infer_step_s=infer[skip:],
                   infer_img_s=n / statistics.median(infer[skip:]))
    return out


def native_worker(args, policy: str) -> dict:
    """Plain PyTorch eager training/inference of `torch_resnet.ResNet50` with Adam: float32,
    or autocast (bf16/fp16) + channels_last under a mixed `policy`."""
    import torch  # backend-edge: the native PyTorch reference line

    from zoo.study import torch_resnet

    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    amp = {"mixed_bfloat16": torch.bfloat16, "mixed_float16": torch.float16}.get(policy)
    layout = torch.channels_last if amp else torch.contiguous_format
    model = torch_resnet.ResNet50(DEFAULT_TASKS).to(device, memory_format=layout)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    images, targets = random_batch(args.batch_size, args.image_size, DEFAULT_TASKS)
    x = (torch.from_numpy(images).to(device).permute(0, 3, 1, 2) / 127.5 - 1).contiguous(memory_format=layout)
    y = {k: torch.from_numpy(v).to(device) for k, v in targets.items()}

    def forward():
        with torch.autocast(device, dtype=amp or torch.float32, enabled=amp is not None):
            return {k: v.float() for k, v in model(x).items()}

    def train():
        model.train()
        optimizer.zero_grad(set_to_none=True)
        torch_resnet.loss_fn(forward(), y, DEFAULT_TASKS).backward()
        optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()

    def infer():
        model.eval()
        with torch.no_grad():
            forward()
        if device == "cuda":
            torch.cuda.synchronize()

    steps = 1 + args.warmup + args.steps
    if args.memory_only:
        return {**_speeds(args, _timed(train, steps)), **_peak_memory()}
    speeds = _speeds(args, _timed(train, steps), _timed(infer, steps))
    return {"params": torch_resnet.backbone_param_count(model), "channels_last": amp is not None,
            "autocast": str(amp).removeprefix("torch.") if amp else None, **speeds, **_peak_memory(),
            "backend_version": torch.__version__, "torch_threads": torch.get_num_threads()}


def worker(args) -> dict:
    """Benchmark one model/impl/precision on this process's backend (runs in a child)."""
    import keras

    from zoo.training.precision import resolve

    precision = resolve(args.precision)
    keras.mixed_precision.set_dtype_policy(precision.policy)
    chosen = {"policy": precision.policy, "precision_reason": precision.reason}
    if args.impl == PAIRED:
        return {**paired_worker(args), **chosen}
    if args.impl == NATIVE:
        return {**native_worker(args, precision.policy), **chosen}
    model = _compiled(args, args.impl)
    x, y = random_batch(args.batch_size, args.image_size, DEFAULT_TASKS)
    train = _timed(lambda: model.train_on_batch(x, y), 1 + args.warmup + args.steps)
    infer = None if args.memory_only else _timed(lambda: model.predict_on_batch(x), 1 + args.warmup + args.steps)
    return {"params": int(model.count_params()), **_speeds(args, train, infer), **_peak_memory(),
            "jit_compile": bool(model.jit_compile), **chosen, **_backend_info()}


def _child_args(args, cell: dict, impl: str, result: Path) -> list[str]:
    """The child process of one measurement: `run_worker` through zoo.study.worker."""
    return worker_command("bench:run_worker", result=str(result), model=cell["model"], impl=impl,
                          image_size=cell["image_size"], batch_size=cell["batch_size"],
                          precision=cell["precision"], steps=args.steps, warmup=args.warmup,
                          jit=args.jit, memory_only=args.memory_only)


def _num(row: dict, key: str, digits: int = 1) -> str:
    return f"{row[key]:.{digits}f}" if row.get(key) is not None else ""


def _rate(img_s: float | None) -> str:
    """img/s with one decimal, two below 1 (a ViT-L at 224 px on a CPU trains at 0.03); "" if none."""
    return "" if img_s is None else f"{img_s:.1f}" if img_s >= 1 else f"{img_s:.2f}"


def _precision_label(row: dict) -> str:
    """"float32", or "auto = mixed_bfloat16" once the child has resolved it."""
    policy = row.get("policy")
    return row["precision"] if not policy or policy == row["precision"] else f"{row['precision']} = {policy}"


def _table(results: list[dict], title: str, memory_only: bool) -> Table:
    table = Table(title=title)
    gpu = any(r.get("device_peak_mb") for r in results)
    ratio = any(r.get("train_vs_reference") for r in results)
    columns = ["model", "backend", "impl", "precision", "px", "batch"]
    columns += ["train step s", "peak RSS MB"] if memory_only else [
        "train img/s", "infer img/s", "compile s", "peak RSS MB"]
    columns += ["device peak MB"] * gpu + ["zoo/keras.applications (paired)"] * ratio + ["status"]
    for name in columns:
        table.add_column(name, justify="left" if name in ("model", "backend", "impl", "precision", "status")
                         else "right")
    for r in results:
        cells = [r["model"], r["backend"], r["impl"], _precision_label(r), str(r["image_size"]), str(r["batch_size"])]
        if memory_only:
            step = f"{statistics.median(r['train_step_s']):.2f}" if r.get("train_step_s") else ""
            cells += [step, _num(r, "peak_rss_mb", 0)]
        else:
            cells += [_rate(r.get("train_img_s")), _rate(r.get("infer_img_s")), _num(r, "compile_s"), _num(r, "peak_rss_mb", 0)]
        cells += [_num(r, "device_peak_mb", 0)] * gpu
        cells += [f"{r['train_vs_reference']:.2f}x" if r.get("train_vs_reference") else ""] * ratio
        cells.append(r["status"] if r.get("ratio_status", "ok") == "ok" else f"ratio {r['ratio_status']}")
        table.add_row(*cells)
    return table


def _measure(args, console: Console, cell: dict, impl: str) -> dict:
    """One measurement in its own process -> a result row (status "ok" or "failed: ...")."""
    out = Path(args.out)
    tag = "-".join(str(cell[k]) for k in ("model", "backend", "image_size", "batch_size", "precision")) + f"-{impl}"
    result = out.parent / f"{tag}.result.json"
    result.unlink(missing_ok=True)
    load = os.getloadavg()[0]  # other jobs on the machine make the numbers noisy
    what = f"{cell['model']} {cell['image_size']} px batch {cell['batch_size']} ({impl}, {cell['precision']})"
    with console.status(f"{what} on {cell['backend']} ..."):
        res = run_child(_child_args(args, cell, impl, result), env=child_env(cell["backend"]),
                        log_path=out.parent / f"{tag}.log", timeout_s=args.timeout)
    row = {**cell, "impl": impl, "wall_s": res.wall_s, "loadavg_1m_before": load}
    if res.returncode == 0 and result.exists():
        row.update(json.loads(result.read_text()), status="ok")
    else:
        row["status"] = f"failed: {res.last_error or f'exit {res.returncode}'}"
    if row["status"] != "ok":
        summary = row["status"]
    elif impl == PAIRED:
        summary = f"zoo/keras.applications: train {row['train_vs_reference']:.2f}x, infer {row['infer_vs_reference']:.2f}x"
    elif args.memory_only:
        summary = f"peak RSS {row['peak_rss_mb']:.0f} MB"
    else:
        summary = (f"train {_rate(row['train_img_s'])} img/s, infer {_rate(row['infer_img_s'])} img/s, "
                   f"peak RSS {row['peak_rss_mb']:.0f} MB")
    console.print(f"{what} on {cell['backend']} [{_precision_label(row)}]: {summary} (load {load:.1f})", markup=False)
    return row


def _measure_backend(args, console: Console, cell: dict) -> list[dict]:
    """The zoo model of `cell`; with --applications also keras.applications and the paired ratio."""
    impls = ["zoo"] + (["keras.applications"] if args.applications and not args.memory_only
                       and registry.get(cell["model"]).application else [])
    rows = {impl: _measure(args, console, cell, impl) for impl in impls}
    if len(rows) == 2 and all(r["status"] == "ok" for r in rows.values()):
        paired = _measure(args, console, cell, PAIRED)
        rows["zoo"]["ratio_status"] = paired["status"]
        rows["zoo"].update({k: v for k, v in paired.items() if "vs_reference" in k or "pair_ratios" in k})
    return list(rows.values())


def run(args) -> dict:
    """Every requested measurement, each in its own process; returns the JSON report."""
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    console = study_console()
    results = []
    for model in args.models:
        for size in args.image_size:
            for batch in args.batch_size:
                for backend in args.backends:
                    for precision in args.precision:
                        cell = {"model": model, "backend": backend, "image_size": size, "batch_size": batch,
                                "precision": precision}
                        results += _measure_backend(args, console, cell)
                if model in NATIVE_MODELS and not args.no_native and not args.memory_only:
                    for precision in args.precision:
                        cell = {"model": model, "backend": "torch", "image_size": size, "batch_size": batch,
                                "precision": precision}
                        results.append(_measure(args, console, cell, NATIVE))
    if args.runtimes != "none" and not args.memory_only:
        report_runtimes = runtimes_table(args, console)
    else:
        report_runtimes = []
    from zoo.training.precision import read_cpuinfo

    flags, cpu_model = read_cpuinfo()
    report = {
        "settings": {"image_size": args.image_size, "batch_size": args.batch_size, "steps": args.steps,
                     "warmup": args.warmup, "precision": args.precision, "jit": args.jit,
                     "memory_only": args.memory_only,
                     "env": {k: os.environ[k] for k in SPEED_ENV if k in os.environ}},
        "machine": {"cpu_count": os.cpu_count(), "cpu_model": cpu_model, "platform": platform.platform(),
                    "cpu_flags": sorted(f for f in flags if f.startswith(("avx", "amx", "fma"))),
                    "loadavg_at_end": os.getloadavg()},
        "results": results,
        "runtimes": report_runtimes,
    }
    write_atomic(out, json.dumps(report, indent=1))
    what = "peak memory of a training step" if args.memory_only else f"median of {args.steps} steps"
    title = f"bench: {what}, jit {args.jit}; {cpu_model}, load {os.getloadavg()[0]:.1f} ({out})"
    console.print(_table(results, title, args.memory_only))
    return report


def runtimes_table(args, console: Console) -> list[dict]:
    """Keras vs ONNX Runtime vs OpenVINO inference rows (zoo.study.runtimes), printed as a table."""
    import zoo
    from zoo.study import runtimes

    model_file = Path(args.runtimes)
    if args.runtimes == "auto":
        size = args.image_size[0]
        model_file = Path(args.out).parent / f"{args.models[0]}-{size}px-random.keras"
        zoo.build(args.models[0], input_shape=(size, size, 3)).save(model_file)
    rows = runtimes.runtime_rows(model_file, console=console)
    runtimes.print_table(rows, console)
    return rows


def run_worker(result: str, **cell) -> None:
    """Child entry: measure `cell` (model, impl, image_size, batch_size, precision, steps,
    warmup, jit, memory_only) on this process's backend and write the row to `result`."""
    args = SimpleNamespace(**cell)
    if args.memory_only:  # the first step allocates the optimizer state, the second shows the steady peak
        args.warmup, args.steps = 0, 1
    Path(result).write_text(json.dumps(worker(args)))
