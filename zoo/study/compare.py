"""The compare study: train every model x backend x seed with one recipe and data.

Seeds: `--seeds N` from `--seed`; every seed trains on the accuracy backends (`--seeds-on`,
default torch), the first seed on every backend. Per model and seed the initial weights are
made once (zoo/study/shared_init.py) and every backend's cell starts from them. The seeds of one
model x backend train in one process, each through `python -m zoo train`'s code path
(zoo/study/cells.py: OUT/cells/<model>-<backend>-s<seed>/).
A failing cell is recorded and the rest go on; a re-run skips cells whose result says "ok".
Then the backends' numeric agreement is checked and OUT/leaderboard.{csv,md,png} are written:
one row per model x backend (mean over seeds, 95 % interval), and the two answers
(zoo/study/aggregate.py): which model, which backend.
"""

import os
import platform
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

from data_tools.plural import plural
from data_tools.usage import UsageError
from zoo.study import aggregate, agreement, leaderboard, shared_init
from zoo.study.cells import run_cells
from zoo.study.options import keep_settings, study_console
from zoo.study.seeds import seed_list


def budget_recipe(budget: str) -> str:
    """The recipe of a `--budget` (zoo.cli.compare: one per `recipes/compare_*.py`)."""
    return f"compare_{budget}"


def _data_dir(args) -> Path:
    if args.data is None:
        from data_tools.synth_hard import ensure_hard_dataset

        return ensure_hard_dataset().resolve()
    data = Path(args.data)
    if not (data / "manifest.csv").is_file():
        raise UsageError(f"--data {data}: no manifest.csv there (not a dataset folder)")
    return data.resolve()


def _intro(settings: dict, recipe, wall_s: float, runs: list[dict]) -> str:
    r = recipe
    cells_s = sum(row["wall_s"] for row in runs)
    loads = [row["loadavg_1m_before"] for row in runs]
    return (f"Budget **{settings['budget']}** (recipe `{settings['recipe']}`: {r.image_size} px, batch "
            f"{r.batch_size}, {r.epochs} epoch(s), {r.optimizer} lr {r.lr:g}, {r.schedule}, augment "
            f"{r.augment}, precision {r.precision}; each cell's config.json says what it resolved to), data "
            f"`{settings['data']}`, seeds {' '.join(map(str, settings['seeds']))} on "
            f"{', '.join(settings['seeds_on'])}, seed {settings['seeds'][0]} on every backend; per model and seed "
            f"one set of initial weights (made on {settings['init_backend']}) loaded by every backend. The seeds of "
            f"one model x backend trained in one process. Machine: {os.cpu_count()} CPU cores ({platform.machine()}); 1-min load "
            f"average {min(loads):.1f} to {max(loads):.1f} just before the cells started (the previous cell's tail "
            f"and other jobs on the shared cores), so throughput is noisy. Wall time: {cells_s:.0f} s for the "
            f"{len(runs)} cells (sum of `wall_s`), {wall_s:.0f} s for this invocation (with the initial weights and "
            "the agreement check; cells done earlier are skipped). "
            "`train_img_s`: after 2 warm-up batches; `infer_img_s`: test split after the first batch; "
            "`gflops`: forward GFLOPs per image at this size (2 x MACs, zoo/training/flops.py); "
            "`peak_rss_mb`: peak resident memory of the cell's process tree; sorted by artist top-1.")


def seed_plan(args) -> tuple[list[int], list[str], dict[str, list[int]]]:
    """(seeds, accuracy backends, backend -> its seeds): every seed on the accuracy backends
    (`--seeds-on`: names or "all"; default torch, else the first backend), the first elsewhere."""
    seeds = seed_list(args.seed, args.seeds)
    on = args.seeds_on or (["torch"] if "torch" in args.backends else args.backends[:1])
    on = list(args.backends) if on == ["all"] else [b for b in args.backends if b in on]
    return seeds, on, {b: seeds if b in on else seeds[:1] for b in args.backends}


def _cells(args, plan: dict[str, list[int]]) -> list[tuple[str, str, list[int]]]:
    """(model, backend, seeds) in run order: per model each backend's seeds, one process each."""
    return [(m, b, plan[b]) for m in args.models for b in args.backends]


def _train(args, out: Path, cells, data: Path, recipe, init_backend: str, console):
    """The initial weights, every cell and the agreement check, with a progress bar; (runs, report)."""
    seed0, runs, report = cells[0][2][0], [], None
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("cells", total=1 + sum(len(s) for *_, s in cells) + (not args.no_agreement))
        progress.update(task, description=f"initial weights on {init_backend}")
        inits = shared_init.ensure(out / "init", sorted({(m, s) for m, _, seeds in cells for s in seeds}), data=data,
                                   image_size=recipe.image_size, backend=init_backend, timeout_s=args.cell_timeout)
        progress.advance(task)
        for model, backend, seeds in cells:
            progress.update(task, description=f"{model} on {backend}, {plural(len(seeds), 'seed')}")
            for row, ran in run_cells(out, model, backend, seeds, inits, args, data, budget_recipe(args.budget)):
                runs.append(row)
                how = f"{row['wall_s']:.0f} s" if ran else "skipped: done earlier"
                progress.console.print(f"{model:>16} {backend:<10} s{row['seed']:<3} {row['status'][:90]}  ({how})",
                                       markup=False)
                progress.advance(task)
        if not args.no_agreement:
            name = args.agreement_model or args.models[0]
            progress.update(task, description=f"numeric agreement ({name})")
            report = agreement.check(name, recipe.image_size, args.backends, out / "agreement",
                                     recipe=budget_recipe(args.budget), seed=seed0, timeout_s=args.cell_timeout)
            progress.advance(task)
    return runs, report


def run(args) -> int:
    """The study of parsed `args` (zoo.cli.compare); exit code 1 when a cell or the agreement failed."""
    import recipes

    started = time.time()
    recipe = recipes.load(budget_recipe(args.budget)).replace(epochs=args.epochs, image_size=args.image_size)
    data = _data_dir(args)
    out = Path(args.out)
    seeds, seeds_on, plan = seed_plan(args)
    init_backend = "torch" if "torch" in args.backends else args.backends[0]  # builds fastest (README)
    settings = {"budget": args.budget, "recipe": budget_recipe(args.budget), "data": str(data), "seeds": seeds,
                "seeds_on": seeds_on, "init_backend": init_backend, "epochs": args.epochs,
                "image_size": args.image_size}
    keep_settings(out, settings, name="compare.json")  # cells of an earlier run are reused
    console = study_console()
    runs, report = _train(args, out, _cells(args, plan), data, recipe, init_backend, console)
    rows = leaderboard.sort_rows(aggregate.cell_rows(runs))
    models = aggregate.model_rows(runs, seeds_on[0], seeds[0])
    answers = aggregate.model_markdown(models, seeds_on[0], seeds[0]) + "\n" + \
        aggregate.backend_markdown(runs, seeds[0])
    wall = time.time() - started
    leaderboard.write_csv(rows, out / "leaderboard.csv")
    leaderboard.write_markdown(rows, out / "leaderboard.md", agreement=report, runs=runs, answers=answers,
                               intro=_intro(settings, recipe, wall, runs))
    leaderboard.plot(rows, out / "leaderboard.png",
                     title=f"compare ({args.budget}, {recipe.image_size} px, {plural(recipe.epochs, 'epoch')}, "
                           f"{plural(len(seeds), 'seed')})")
    console.print(leaderboard.rich_table(rows, title="leaderboard", source=out / "leaderboard.csv"))
    console.print(aggregate.backend_words(models), markup=False)
    failed = [f"{r['model']}/{r['backend']}/s{r['seed']}" for r in runs if r["status"] != "ok"]
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
