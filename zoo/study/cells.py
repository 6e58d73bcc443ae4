"""One compare cell: one model on one backend with one seed, `python -m zoo train` in its own process.

Folder OUT/cells/<model>-<backend>-s<seed>/ (the run folder: train.log, result.json, ...). A
finished cell (result.json says ok) is skipped on a re-run; an unfinished or failed one starts over.
"""

import json
import os
import shutil
from pathlib import Path

from data_tools.files import write_atomic
from zoo.run_folder import RunFolder
from zoo.study.child import child_env, run_child

METRICS = ("params", "gflops", "infer_img_s", "artist_top1", "artist_top5", "movement_top1", "year_mae")


def cell_dir(out: Path, model: str, backend: str, seed: int) -> Path:
    return out / "cells" / f"{model}-{backend}-s{seed}"


def _row(run: Path, row: dict, res) -> dict:
    """The result row of a finished cell process."""
    if res.returncode != 0:
        reason = res.last_error.removeprefix("error: ") or f"exit {res.returncode}"
        return {**row, "status": f"failed: {reason}"}
    try:
        metrics = json.loads(RunFolder(run).metrics_path().read_text())
        timings = json.loads(RunFolder(run).timings_path.read_text())
    except (OSError, ValueError) as exc:  # exit 0 but no usable run folder
        return {**row, "status": f"failed: {str(exc).splitlines()[0]}"}
    row.update({k: timings[k] for k in ("train_img_s", "total_s", "phases_s")})
    row.update({k: metrics.get(k) for k in METRICS})
    return {**row, "status": "ok"}


def run_cell(out: Path, model: str, backend: str, seed: int, init, args, data: Path, recipe: str) -> tuple[dict, bool]:
    """Train one cell from the initial weights `init` (a file, or the reason there is none)
    unless its result says ok; returns (row, ran)."""
    run = cell_dir(out, model, backend, seed)
    result = run / "result.json"
    if result.exists():
        row = json.loads(result.read_text())
        if row.get("status") == "ok":
            return row, False
    if run.exists():
        shutil.rmtree(run)  # an unfinished or failed attempt of this cell: start it over
    row = {"model": model, "backend": backend, "seed": seed, "loadavg_1m_before": os.getloadavg()[0]}
    if not isinstance(init, Path):  # the model could not even be built: no process to start
        row = {**row, "wall_s": 0.0, "peak_rss_mb": None, "status": f"failed: {init}"}
        run.mkdir(parents=True)
        write_atomic(result, json.dumps(row, indent=1))
        return row, True
    cmd = ["-m", "zoo", "train", "--recipe", recipe, "--model", model, "--backend", backend, "--data", str(data),
           "--out", str(run), "--seed", str(seed), "--weights", str(init)]
    for flag in ("epochs", "image_size"):
        if getattr(args, flag) is not None:
            cmd += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    res = run_child(cmd, env=child_env(backend), log_path=run / "train.log", timeout_s=args.cell_timeout)
    row = _row(run, {**row, "wall_s": res.wall_s, "peak_rss_mb": res.peak_rss_mb}, res)
    write_atomic(result, json.dumps(row, indent=1))
    return row, True
