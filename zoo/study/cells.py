"""Compare cells: one model on one backend, all its seeds in one process.

A cell is OUT/cells/<model>-<backend>-s<seed>/ (the run folder: train.log, result.json, ...).
The seeds of one model x backend train one after another in one child process
(`train_seeds`, through `zoo.study.worker`): each is `python -m zoo train`'s own code
path (`zoo.cli.main`), its output in its folder's train.log, so the interpreter, the
imports and (on JAX) the compiled programs are paid once for all seeds (`_jax_cache`).
A finished cell (result.json says ok) is skipped on a re-run; an unfinished or failed
one starts over.
"""

import json
import os
import shutil
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

from data_tools.files import write_atomic
from zoo.run_folder import RunFolder
from zoo.study import worker
from zoo.study.child import child_env, run_child

METRICS = ("n_images", "params", "gflops", "infer_img_s", "artist_top1", "artist_top5", "movement_top1", "year_mae")
SEED_RUN = "seed_run.json"  # {"returncode", "wall_s", "last_error"} of one seed, written by the child


def cell_dir(out: Path, model: str, backend: str, seed: int) -> Path:
    return out / "cells" / f"{model}-{backend}-s{seed}"


def _row(run: Path, row: dict, returncode: int, last_error: str) -> dict:
    """The result row of a trained seed."""
    if returncode != 0:
        reason = last_error.removeprefix("error: ") or f"exit {returncode}"
        return {**row, "status": f"failed: {reason}"}
    try:
        metrics = json.loads(RunFolder(run).metrics_path().read_text())
        timings = json.loads(RunFolder(run).timings_path.read_text())
    except (OSError, ValueError) as exc:  # exit 0 but no usable run folder
        return {**row, "status": f"failed: {str(exc).splitlines()[0]}"}
    row.update({k: timings[k] for k in ("train_img_s", "total_s", "phases_s")})
    row.update({k: metrics.get(k) for k in METRICS})
    return {**row, "status": "ok"}


@contextmanager
def _output_to(path: Path):
    """Send this process's stdout and stderr (file descriptors 1 and 2, so native libraries'
    output too) to `path` for the block."""
    sys.stdout.flush(), sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 1), os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            os.dup2(saved[0], 1), os.dup2(saved[1], 2)
            os.close(saved[0]), os.close(saved[1])


def _last_error(log: Path) -> str:
    """The last `error:` line of a seed's log, else its last non-empty line."""
    lines = [s.strip() for s in log.read_text(errors="replace").splitlines() if s.strip()]
    errors = [s for s in lines if s.startswith("error:")]
    return (errors or lines or [""])[-1]


def _jax_cache(folder: Path) -> None:
    """On JAX, keep compiled XLA programs in `folder` so the second seed's identical programs
    (same model, shapes and dtypes; other weights) load instead of compiling again. The folder
    lives only as long as the child, so no later run reuses a compile and reports less."""
    if os.environ.get("KERAS_BACKEND") != "jax":
        return
    import jax  # backend-edge: JAX's persistent compilation cache has no Keras setting

    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def train_seeds(out: str, model: str, backend: str, seeds: list, inits: dict, argv: list) -> None:
    """Child: train `model` on this process's backend for each seed, one after another, from
    `inits[str(seed)]`; each seed's run folder gets its train.log and SEED_RUN."""
    import tempfile

    import keras

    from zoo.cli import main

    with tempfile.TemporaryDirectory(prefix="zoo-xla-cache-") as cache:
        _jax_cache(Path(cache))
        for seed in seeds:
            run = cell_dir(Path(out), model, backend, seed)
            run.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            with _output_to(run / "train.log"):
                try:
                    code = main(["train", "--model", model, "--backend", backend, "--out", str(run),
                                 "--seed", str(seed), "--weights", inits[str(seed)], *argv])
                except Exception:  # not a user mistake: the traceback goes to the log, the next seed runs
                    traceback.print_exc()
                    code = 1
            keras.backend.clear_session()
            write_atomic(run / SEED_RUN, json.dumps({"returncode": code, "wall_s": time.perf_counter() - started,
                                                     "last_error": _last_error(run / "train.log") if code else ""}))


def _done(run: Path) -> dict | None:
    result = run / "result.json"
    if result.exists():
        row = json.loads(result.read_text())
        if row.get("status") == "ok":
            return row
    return None


def run_cells(out: Path, model: str, backend: str, seeds: list[int], inits: dict, args, data: Path,
              recipe: str) -> list[tuple[dict, bool]]:
    """Train `model` on `backend` for each of `seeds` whose result is not ok yet, from
    `inits[(model, seed)]` (a file, or the reason there is none), in one process; returns
    (row, ran) per seed, in order.

    `wall_s` of a seed is its time inside the process; the first seed the process trains also
    carries the process's start-up and exit, so the seeds' `wall_s` add up to the process's.
    `peak_rss_mb` is the process's peak over all the seeds it trained.
    """
    rows, todo = {}, []
    for seed in seeds:
        run = cell_dir(out, model, backend, seed)
        if (row := _done(run)) is not None:
            rows[seed] = (row, False)
            continue
        if run.exists():
            shutil.rmtree(run)  # an unfinished or failed attempt of this cell: start it over
        run.mkdir(parents=True)
        init = inits[(model, seed)]
        if not isinstance(init, Path):  # the model could not even be built: no process to start
            row = {"model": model, "backend": backend, "seed": seed, "loadavg_1m_before": os.getloadavg()[0],
                   "wall_s": 0.0, "peak_rss_mb": None, "status": f"failed: {init}"}
            write_atomic(run / "result.json", json.dumps(row, indent=1))
            rows[seed] = (row, True)
        else:
            todo.append(seed)
    if todo:
        load = os.getloadavg()[0]
        argv = ["--recipe", recipe, "--data", str(data)]
        for flag in ("epochs", "image_size"):
            if getattr(args, flag) is not None:
                argv += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
        cmd = worker.command("cells:train_seeds", out=str(out), model=model, backend=backend, seeds=todo,
                             inits={str(s): str(inits[(model, s)]) for s in todo}, argv=argv)
        res = run_child(cmd, env=child_env(backend), log_path=out / "cells" / f"{model}-{backend}.log",
                        timeout_s=args.cell_timeout * len(todo))
        rows.update(_collect(out, model, backend, todo, res, load))
    return [rows[s] for s in seeds]


def _collect(out: Path, model: str, backend: str, seeds: list[int], res, load: float) -> dict:
    """seed -> (row, True) from the seeds' SEED_RUN files after the child `res` ended; a seed
    without one (the process died or timed out first) fails with the process's last error."""
    runs = {s: cell_dir(out, model, backend, s) for s in seeds}
    done = {s: json.loads((r / SEED_RUN).read_text()) for s, r in runs.items() if (r / SEED_RUN).exists()}
    overhead = max(0.0, res.wall_s - sum(d["wall_s"] for d in done.values()))
    rows = {}
    for i, seed in enumerate(seeds):
        d = done.get(seed, {"returncode": res.returncode or 1, "wall_s": 0.0,
                            "last_error": res.last_error or "the process ended before this seed ran"})
        row = {"model": model, "backend": backend, "seed": seed, "loadavg_1m_before": load,
               "wall_s": d["wall_s"] + (overhead if i == 0 else 0.0), "peak_rss_mb": res.peak_rss_mb}
        row = _row(runs[seed], row, d["returncode"], d["last_error"])
        write_atomic(runs[seed] / "result.json", json.dumps(row, indent=1))
        rows[seed] = (row, True)
    return rows
