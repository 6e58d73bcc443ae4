"""Compare cells: one model on one backend, all its seeds in one process.

A cell is OUT/cells/<model>-<backend>-s<seed>/ (the run folder: train.log, result.json, ...).
The seeds of one model x backend train one after another in one child process
(`python -m zoo.cli.seed_runs`): each is `python -m zoo train`'s own code path, its output
in its folder's train.log, so the interpreter, the imports and (on JAX) the compiled
programs are paid once for all seeds.
A finished cell (result.json says ok) is skipped on a re-run; an unfinished or failed
one starts over.
"""

import json
import os
import shutil
from pathlib import Path

from data_tools.files import write_atomic
from zoo.run_folder import RunFolder
from zoo.study.child import child_env, run_child

METRICS = ("n_images", "params", "gflops", "infer_img_s", "artist_top1", "artist_top5", "movement_top1",
           "year_mae")
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
        cmd = ["-m", "zoo.cli.seed_runs", json.dumps({
            "out": str(out), "model": model, "backend": backend, "seeds": todo,
            "inits": {str(s): str(inits[(model, s)]) for s in todo}, "argv": argv})]
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
