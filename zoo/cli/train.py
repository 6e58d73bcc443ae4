"""Train a recipe; writes a run folder."""

import sys
import time
from pathlib import Path

from data_tools.plural import plural
from data_tools.usage import UsageError

NEEDS_BACKEND = True


def add_recipe_flags(p) -> None:
    """One flag per `recipes.flag_fields()` field (`--image-size` for `image_size`), its help
    and choices from the field; not given, the flag is None (the recipe's value stays)."""
    import recipes

    for f in recipes.flag_fields():
        kind = f.type if f.type in (int, float) else str
        choices = [c for c in f.metadata["choices"] if c is not None] or None
        p.add_argument("--" + f.name.replace("_", "-"), type=kind, choices=choices, help=f.metadata["help"])
    p.add_argument("--mixed-precision", dest="precision", action="store_const", const="bfloat16",
                   help="the same as --precision bfloat16")


def add_arguments(p) -> None:
    p.add_argument("--recipe", help="recipe name in recipes/ (default: quickstart on the "
                   "embedded dataset, else the model family's)")
    p.add_argument("--data", help="dataset folder with manifest.csv (default: embedded synthetic set)")
    add_recipe_flags(p)
    p.add_argument("--distribute", choices=["none", "data_parallel"],
                   help="data_parallel: keras.distribution.DataParallel over all devices (JAX)")
    p.add_argument("--coordinator", help="multi-host: HOST:PORT of process 0 (JAX)")
    p.add_argument("--num-processes", type=int, help="multi-host: number of processes")
    p.add_argument("--process-id", type=int, help="multi-host: this process, 0..N-1")
    p.add_argument("--out", help="run folder (default runs/<model>-<backend>-<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out with its recorded "
                   "recipe, data and seed; --epochs N trains it to N epochs")
    p.add_argument("--seed", type=int, help="default 0")


def _recipe_flags(args) -> dict:
    """Recipe field -> flag value (None where the flag was not given)."""
    import recipes

    return {f.name: getattr(args, f.name) for f in recipes.flag_fields()}


def _resolve_recipe(args):
    import recipes
    from zoo import registry

    if args.model:
        registry.input_rule(args.model)  # unknown name -> error with the closest names
    from zoo.training.defaults import fit_patch

    name = args.recipe or ("quickstart" if not args.data else registry.get(args.model or "resnet50").default_recipe)
    flags = _recipe_flags(args)
    return name, fit_patch(recipes.load(name).replace(**flags), flags)  # a bad value: ValueError (Recipe)


def check(args) -> None:
    """Before the backend loads and before the run is announced: --resume's --out; for a
    new run the recipe with its flags (values, the model's input size, --tasks) and --data."""
    if args.resume and not args.out:
        raise UsageError("--resume needs --out RUN (the run folder to continue)")
    if args.resume:
        return
    from zoo.registry import check_input_shape

    if args.data and not Path(args.data).is_dir():
        raise UsageError(f"--data {args.data}: no such folder")
    if args.data and not args.recipe:  # the family's recipe: its registry entry imports keras
        from data_tools.startup import quiet_native_logs

        quiet_native_logs()
    recipe = _resolve_recipe(args)[1]
    check_input_shape(recipe.model, (recipe.image_size, recipe.image_size, 3))
    if recipe.tasks is not None and args.data:  # --tasks names tasks the data labels (no backend yet)
        from data_tools.labels import LabelSpace
        from data_tools.manifest import read_manifest

        LabelSpace.from_rows(read_manifest(args.data)).restricted(recipe.task_names())


def run(args) -> int:
    from zoo.run_folder import RunFolder
    from zoo.training import distribute

    cluster = distribute.setup(args.backend, args.distribute, args.coordinator,
                               args.num_processes, args.process_id)
    folder = RunFolder(args.out) if args.out else None
    plan = args.resume and folder.resume_plan(flags=_recipe_flags(args), recipe_name=args.recipe,
                                              data=args.data, seed=args.seed, backend=args.backend)
    if plan and plan.finished:
        print(f"run {args.out} is finished ({plural(plan.epochs_done, 'epoch')}, test metrics in "
              f"{folder.metrics_path()}); pass --epochs N > {plan.epochs_done} to train longer")
        return 0
    if plan:
        name, recipe, args.data, args.seed = "recorded", plan.recipe, plan.data_dir, plan.seed
    elif args.data and not args.recipe:  # issue 19: pretrained where the weights can be had
        from zoo.training.defaults import choose

        name, recipe, notice = choose(args.model, _recipe_flags(args))
        if notice:
            from data_tools.manifest import read_manifest

            read_manifest(args.data)  # a broken manifest is the one line, not the notice before it
            print(notice, file=sys.stderr, flush=True)
    else:
        name, recipe = _resolve_recipe(args)
    if args.data:
        data_dir = Path(args.data)
        if not data_dir.is_dir():
            raise UsageError(f"--data {data_dir}: no such folder")
    else:
        from data_tools.synth import ensure_default_dataset

        data_dir = ensure_default_dataset()
    out = Path(args.out or f"runs/{recipe.model}-{args.backend}-{time.strftime('%Y%m%d-%H%M%S')}")
    from zoo.training.loop import Diverged, train
    from zoo.training.report import print_metrics

    print(f"{'resuming' if plan else 'recipe ' + name}: {recipe.model} on {args.backend}, {recipe.image_size}px, batch "
          f"{recipe.batch_size}, {plural(recipe.epochs, 'epoch')}, data {data_dir} -> {out}", flush=True)
    if recipe.probe:  # heads on cached frozen features (recipes/probe.py)
        from zoo.training.probe import train
    try:
        result = train(recipe, backend=args.backend, data_dir=data_dir, run_dir=out,
                       resume=args.resume, seed=args.seed or 0, cluster=cluster)
    except Diverged as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:  # a backend's out-of-memory error: one line, the checkpoint stays
        from zoo.training import oom

        if not oom.is_out_of_memory(exc):
            raise
        print(f"error: {oom.advice(out, recipe.batch_size, recipe.accumulate)}", file=sys.stderr)
        return 3
    if cluster.is_chief:
        print_metrics(result.metrics, title=f"test metrics ({result.wall_s:.0f} s)", source=result.run_dir)
    return 0
