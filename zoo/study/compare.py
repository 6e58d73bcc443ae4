"""The compare study: train every model x backend with one recipe, data and seed.

Each cell is `python -m zoo train` in its own process (log: OUT/cells/<model>-<backend>/train.log,
result: .../result.json). A failing cell is recorded and the rest go on; a re-run skips
cells whose result says "ok". Then the backends' numeric agreement is checked and
OUT/leaderboard.{csv,md,png} are written.
"""

import json
import os
import platform
import shutil
import time
from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from data_tools.files import write_atomic
from data_tools.plural import plural
from data_tools.usage import UsageError
from zoo.run_folder import RunFolder
from zoo.study import agreement, leaderboard
from zoo.study.child import child_env, run_child
from zoo.study.options import keep_settings, study_console


def budget_recipe(budget: str) -> str:
    """The recipe of a `--budget` (zoo.cli.compare: one per `recipes/compare_*.py`)."""
    return f"compare_{budget}"


def _data_dir(args) -> Path:
    if args.data is None:
        from data_tools.synth import ensure_default_dataset

        return ensure_default_dataset().resolve()
    data = Path(args.data)
    if not (data / "manifest.csv").is_file():
        raise UsageError(f"--data {data}: no manifest.csv there (not a dataset folder)")
    return data.resolve()


def _cell_row(run: Path, model: str, backend: str, res) -> dict:
    """The leaderboard row of a finished cell."""
    row = {"model": model, "backend": backend, "wall_s": res.wall_s, "peak_rss_mb": res.peak_rss_mb}
    if res.returncode != 0:
        reason = res.last_error.removeprefix("error: ") or f"exit {res.returncode}"
        return {**row, "status": f"failed: {reason}"}
    try:
        metrics = json.loads(RunFolder(run).metrics_path().read_text())
        timings = json.loads(RunFolder(run).timings_path.read_text())
    except (OSError, ValueError) as exc:  # exit 0 but no usable run folder
        return {**row, "status": f"failed: {str(exc).splitlines()[0]}"}
    row.update({k: timings[k] for k in ("train_img_s", "total_s", "phases_s")})
    for key in ("params", "gflops", "infer_img_s", "artist_top1", "artist_top5", "movement_top1", "year_mae"):
        row[key] = metrics.get(key)
    return {**row, "status": "ok"}


def run_cell(out: Path, model: str, backend: str, args, data: Path) -> tuple[dict, bool]:
    """Train one cell unless its result says ok; returns (row, ran)."""
    run = out / "cells" / f"{model}-{backend}"
    result = run / "result.json"
    if result.exists():
        row = json.loads(result.read_text())
        if row.get("status") == "ok":
            return row, False
    if run.exists():
        shutil.rmtree(run)  # an unfinished or failed attempt of this cell: start it over
    cmd = ["-m", "zoo", "train", "--recipe", budget_recipe(args.budget), "--model", model,
           "--backend", backend, "--data", str(data), "--out", str(run), "--seed", str(args.seed)]
    for flag in ("epochs", "image_size"):
        if getattr(args, flag) is not None:
            cmd += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    load = os.getloadavg()[0]  # other jobs on the machine make throughput noisy
    res = run_child(cmd, env=child_env(backend), log_path=run / "train.log", timeout_s=args.cell_timeout)
    row = {**_cell_row(run, model, backend, res), "loadavg_1m_before": load}
    write_atomic(result, json.dumps(row, indent=1))
    return row, True


def _intro(settings: dict, recipe, wall_s: float, rows: list[dict]) -> str:
    r = recipe
    cells_s = sum(row["wall_s"] for row in rows)
    loads = [row["loadavg_1m_before"] for row in rows]
    return (f"Budget **{settings['budget']}** (recipe `{settings['recipe']}`: {r.image_size} px, batch "
            f"{r.batch_size}, {r.epochs} epoch(s), {r.optimizer} lr {r.lr:g}, {r.schedule}, augment "
            f"{r.augment}, precision {r.precision}; each cell's config.json says what it resolved to), data `{settings['data']}`, seed {settings['seed']}. Every cell ran in its own "
            f"process. Machine: {os.cpu_count()} CPU cores ({platform.machine()}); 1-min load average "
            f"{min(loads):.1f} to {max(loads):.1f} just before the cells started (the previous cell's tail and other jobs on the "
            f"shared cores), so throughput is noisy. Wall time: {cells_s:.0f} s for the cells (sum of `wall_s`), "
            f"{wall_s:.0f} s for this invocation (with the agreement check; cells done earlier are skipped). "
            "`train_img_s`: after 2 warm-up batches; `infer_img_s`: test split after the first batch; "
            "`gflops`: forward GFLOPs per image at this size (2 x MACs, zoo/training/flops.py); "
            "`peak_rss_mb`: peak resident memory of the cell's process tree; sorted by artist top-1.")


def run(args) -> int:
    """The study of parsed `args` (zoo.cli.compare); exit code 1 when a cell or the agreement failed."""
    import recipes

    started = time.time()
    recipe = recipes.load(budget_recipe(args.budget)).replace(epochs=args.epochs, image_size=args.image_size)
    data = _data_dir(args)
    out = Path(args.out)
    settings = {"budget": args.budget, "recipe": budget_recipe(args.budget), "data": str(data), "seed": args.seed,
                "epochs": args.epochs, "image_size": args.image_size}
    keep_settings(out, settings, name="compare.json")  # cells of an earlier run are reused
    console = study_console()
    cells = [(m, b) for m in args.models for b in args.backends]
    rows = []
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("cells", total=len(cells) + (not args.no_agreement))
        for model, backend in cells:
            progress.update(task, description=f"{model} on {backend}")
            row, ran = run_cell(out, model, backend, args, data)
            rows.append(row)
            how = f"{row['wall_s']:.0f} s" if ran else "skipped: done earlier"
            progress.console.print(f"{model:>16} {backend:<10} {row['status'][:90]}  ({how})", markup=False)
            progress.advance(task)
        report = None
        if not args.no_agreement:
            name = args.agreement_model or args.models[0]
            progress.update(task, description=f"numeric agreement ({name})")
            report = agreement.check(name, recipe.image_size, args.backends, out / "agreement",
                                     recipe=budget_recipe(args.budget), seed=args.seed, timeout_s=args.cell_timeout)
            progress.advance(task)
    rows = leaderboard.sort_rows(rows)
    wall = time.time() - started
    leaderboard.write_csv(rows, out / "leaderboard.csv")
    leaderboard.write_markdown(rows, out / "leaderboard.md", agreement=report,
                               intro=_intro(settings, recipe, wall, rows))
    leaderboard.plot(rows, out / "leaderboard.png",
                     title=f"compare ({args.budget}, {recipe.image_size} px, {plural(recipe.epochs, 'epoch')})")
    console.print(leaderboard.rich_table(rows, title="leaderboard", source=out / "leaderboard.csv"))
    failed = [f"{r['model']}/{r['backend']}" for r in rows if r["status"] != "ok"]
    if report is not None:
        console.print(agreement_line(report))
    if failed:
        console.print(f"{len(failed)} cell(s) failed: {', '.join(failed)} (logs: {out}/cells/*/train.log)")
    return 1 if failed or (report is not None and not report.get("passed")) else 0


def agreement_line(report: dict) -> str:
    """One line summarising the agreement check."""
    if "error" in report:
        return f"numeric agreement: ERROR ({report['error']})"
    verdict = "PASS" if report["passed"] else "FAIL"
    return (f"numeric agreement ({report['model']}, {', '.join(report['backends'])}): first-step loss "
            f"differs by {report['rel_diff']['first_step_loss']:.1e} relative (tolerance "
            f"{report['tolerance']:.0e}) {verdict}; inference-mode loss by {report['rel_diff']['eval_loss']:.1e}")
