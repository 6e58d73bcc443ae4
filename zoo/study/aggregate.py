"""From the compare study's per-seed runs to its two answers.

* `cell_rows`: one leaderboard row per model x backend: accuracies are the mean over that cell's
  seeds with the artist top-1's std and 95 % t interval (`zoo.study.seeds.interval`); speed the
  mean; wall time summed; peak memory the largest.
* `model_rows`: which model. Per model the interval on the accuracy backend (the one that trains
  every seed), a rank where overlapping intervals tie, and the backend effect: the spread of
  artist top-1 across backends for the first seed (same initial weights, same data order)
  next to the seed-to-seed std.
* `markdown`: the "Which model" and "Which backend" sections of leaderboard.md.
"""

from zoo.study import seeds as seedstats

MEANS = ("params", "gflops", "train_img_s", "infer_img_s", "artist_top1", "artist_top5", "movement_top1",
         "year_mae")


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def cell_rows(runs: list[dict]) -> list[dict]:
    """One row per (model, backend) of `runs` (cells.run_cell rows), in first-seen order."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for run in runs:
        groups.setdefault((run["model"], run["backend"]), []).append(run)
    rows = []
    for (model, backend), mine in groups.items():
        ok = [r for r in mine if r["status"] == "ok"]
        row = {"model": model, "backend": backend, "seeds": " ".join(str(r["seed"]) for r in ok)}
        row.update({k: _mean(r.get(k) for r in ok) for k in MEANS})
        row["params"] = ok[0].get("params") if ok else None  # a count, the same for every seed
        ci = seedstats.interval(r["artist_top1"] for r in ok)
        row.update({"artist_top1_std": ci["std"], "artist_top1_ci_low": ci["ci_low"],
                    "artist_top1_ci_high": ci["ci_high"]})
        row["wall_s"] = sum(r.get("wall_s") or 0.0 for r in mine)
        row["peak_rss_mb"] = max((r["peak_rss_mb"] for r in mine if r.get("peak_rss_mb")), default=None)
        bad = [r for r in mine if r["status"] != "ok"]
        row["status"] = "ok" if not bad else f"{bad[0]['status']} (seed {bad[0]['seed']})"
        rows.append(row)
    return rows


def model_rows(runs: list[dict], accuracy_backend: str, first_seed: int) -> list[dict]:
    """Per model: its artist top-1 interval over seeds on `accuracy_backend`, rank and ties,
    and the backend effect at `first_seed`; best mean first."""
    models = list(dict.fromkeys(r["model"] for r in runs))
    ok = [r for r in runs if r["status"] == "ok"]
    summaries = {m: seedstats.interval(r["artist_top1"] for r in ok
                                       if r["model"] == m and r["backend"] == accuracy_backend) for m in models}
    ranks = seedstats.rank(summaries)
    rows = []
    for m in models:
        by_backend = {r["backend"]: r["artist_top1"] for r in ok if r["model"] == m and r["seed"] == first_seed}
        n_test = max((r.get("n_images") or 0 for r in ok if r["model"] == m), default=0) or None
        effect = seedstats.backend_effect(summaries[m]["std"], by_backend, n_test)
        seeds = sorted(r["seed"] for r in ok if r["model"] == m and r["backend"] == accuracy_backend)
        rows.append({"model": m, **summaries[m], **ranks.get(m, {"rank": None, "tied": []}), **effect,
                     "seeds": seeds, "by_backend": by_backend})
    return sorted(rows, key=lambda r: (r["mean"] is None, -(r["mean"] or 0.0)))


def _f(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def model_markdown(rows: list[dict], accuracy_backend: str, first_seed: int) -> str:
    """## Which model: ranked by the mean, ties where the 95 % intervals overlap."""
    lines = ["## Which model\n",
             f"Artist top-1 on the test split, mean over the seeds trained on **{accuracy_backend}**, with the "
             "sample std and a 95 % Student-t interval over seeds (zoo/study/seeds.py). `rank` = 1 + the models "
             "whose interval lies wholly above; models whose intervals overlap are **tied**. `backend spread` = "
             f"max - min artist top-1 across backends for seed {first_seed} (same initial weights, same data "
             "order); the backend **mattered** when it exceeds 2 x the noise of one accuracy: the larger of the seed "
             "std and the binomial standard error over the test images (zoo/study/seeds.py).\n",
             "| rank | model | artist top-1 | std | 95 % interval | seeds | tied with | backend spread | "
             "backend mattered |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ci = f"{_f(r['ci_low'])} .. {_f(r['ci_high'])}" if r["ci_low"] is not None else ""
        lines.append(f"| {r['rank'] or ''} | {r['model']} | {_f(r['mean'])} | {_f(r['std'])} | {ci} | "
                     f"{' '.join(map(str, r['seeds']))} | {', '.join(r['tied']) or '-'} | "
                     f"{_f(r['backend_spread'])} | {r['backend_mattered']} |")
    lines.append("\n" + backend_words(rows))
    return "\n".join(lines) + "\n"


def backend_words(rows: list[dict]) -> str:
    """One sentence: did any backend change an accuracy beyond noise?"""
    yes = [r["model"] for r in rows if r["backend_mattered"] == "yes"]
    known = [r for r in rows if r["backend_mattered"] != "unknown"]
    if not known:
        return "Backend effect: not measured (one backend, or one seed: no seed noise to compare with)."
    if yes:
        return (f"Backend effect: the backend changed the artist top-1 beyond noise for {', '.join(yes)} "
                "(see the per-backend rows).")
    worst = max(r["backend_spread"] or 0.0 for r in known)
    return (f"Backend effect: none beyond noise; the largest spread across backends is {worst:.3f} "
            f"({len(known)} model(s) compared).")


def backend_markdown(runs: list[dict], first_seed: int) -> str:
    """## Which backend: speed, compile time and peak memory per model x backend (first seed)."""
    lines = ["## Which backend\n",
             f"Seed {first_seed} of every cell (the same initial weights on every backend). `compile s` = model "
             "build + first training step (tracing/compiling; zoo/training/timing.py).\n",
             "| model | backend | train img/s | infer img/s | compile s | peak RSS MB | artist top-1 |",
             "|---|---|---|---|---|---|---|"]
    for r in runs:
        if r["seed"] != first_seed or r["status"] != "ok":
            continue
        phases = r.get("phases_s") or {}
        compile_s = phases.get("build", 0.0) + phases.get("first_step", 0.0)
        lines.append(f"| {r['model']} | {r['backend']} | {_f(r['train_img_s'], 1)} | {_f(r['infer_img_s'], 1)} | "
                     f"{compile_s:.1f} | {_f(r['peak_rss_mb'], 0)} | {_f(r['artist_top1'])} |")
    return "\n".join(lines) + "\n"
