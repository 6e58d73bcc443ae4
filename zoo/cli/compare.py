"""Leaderboard of models x backends x seeds: which model (accuracy, 95 % interval over seeds) and
which backend (speed, compile time, memory; the same accuracy from the same initial weights).

The seeds of one model x backend train in one process, each through `python -m zoo train`'s
code path (log: OUT/cells/<model>-<backend>-s<seed>/train.log, result: .../result.json). A
failing cell is recorded and the rest go on; a re-run skips cells whose result says "ok". Then the backends' numeric agreement is checked and
OUT/leaderboard.{csv,md,png} are written (zoo/study/compare.py).
"""

import sys

from data_tools.usage import UsageError
from zoo.cli.study_options import add_backends, check_at_least, check_backends, comma_list

DEFAULT_MODELS = ("resnet50", "resnet152", "efficientnet_b0", "vit_tiny16", "vit_small16")


def add_arguments(p) -> None:
    import recipes  # cheap: lists the recipe modules

    budgets = sorted(n.removeprefix("compare_") for n in recipes.list_recipes() if n.startswith("compare_"))
    p.add_argument("--models", type=comma_list, default=list(DEFAULT_MODELS),
                   help=f"comma-separated zoo models (default {','.join(DEFAULT_MODELS)})")
    add_backends(p)
    p.add_argument("--budget", choices=budgets, default="quick",
                   help="quick: recipes/compare_quick.py; full: recipes/compare_full.py")
    p.add_argument("--data", help="dataset folder with manifest.csv (default: the hard synthetic set, "
                   "data/synthetic-hard, made on first use)")
    p.add_argument("--out", default="runs/compare", help="output folder (default runs/compare)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per cell on the accuracy backends: --seed, "
                   "--seed + 1, ... (default 3)")
    p.add_argument("--seeds-on", type=comma_list, help="backends that train every seed, or all (default torch, "
                   "the fastest here; the others train the first seed, for the backend comparison)")
    p.add_argument("--epochs", type=int, help="override the budget recipe's epochs")
    p.add_argument("--image-size", type=int, help="override the budget recipe's image side (px)")
    p.add_argument("--cell-timeout", type=float, default=3600,
                   help="seconds per seed before a cell's process is killed (default 3600)")
    p.add_argument("--agreement-model", help="model of the numeric agreement check (default: first of --models)")
    p.add_argument("--no-agreement", action="store_true", help="skip the numeric agreement check")


def check(args) -> None:
    """UsageError/ValueError for a mistake in the parsed `args`."""
    from zoo import registry

    for name in args.models + ([args.agreement_model] if args.agreement_model else []):
        registry.get(name)  # unknown -> ValueError naming the closest
    if not args.models:
        raise ValueError("--models: empty list")
    check_backends(args.backends)
    check_at_least(args, 1, "epochs", "image_size", "seeds")
    if args.seeds_on and args.seeds_on != ["all"]:
        check_backends(args.seeds_on)
        if not set(args.seeds_on) & set(args.backends):
            raise UsageError(f"--seeds-on {','.join(args.seeds_on)}: none of --backends {','.join(args.backends)}")


def run(args) -> int:
    check(args)
    from zoo.study import compare

    try:
        return compare.run(args)
    except KeyboardInterrupt:
        print("interrupted; run the same command again to continue (finished cells are kept)",
              file=sys.stderr)
        return 130
