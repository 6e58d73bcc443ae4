"""Train a recipe; writes a run folder."""

import sys
import time
from pathlib import Path

from data_tools.usage import UsageError

NEEDS_BACKEND = True
# Recipe fields with a `train` flag of the same name: each may be omitted with --resume
# (its value comes from config.json); given, it must agree.
RECIPE_FLAGS = ("model", "epochs", "image_size", "batch_size", "lr", "augment", "mix",
                "image_filter", "weights", "precision", "accumulate", "dropout",
                "freeze_epochs", "backbone_lr_scale", "layer_decay")


def add_arguments(p) -> None:
    p.add_argument("--model", help="zoo model name (default: the recipe's)")
    p.add_argument("--recipe", help="recipe name in recipes/ (default: quickstart on the "
                   "embedded dataset, else the model family's)")
    p.add_argument("--data", help="dataset folder with manifest.csv (default: embedded synthetic set)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--image-size", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--augment", choices=["none", "basic", "randaugment"])
    p.add_argument("--mix", choices=["mixup", "cutmix"])
    p.add_argument("--image-filter", help='e.g. "lowpass:0.2", "highpass:0.1", "sharpen"')
    p.add_argument("--weights", help='"imagenet", "none" (random init), a backbone weights file, or '
                   "an earlier RUN/model.keras (its backbone; heads replaced when the labels differ)")
    p.add_argument("--freeze-epochs", type=int, help="first N epochs train the heads only")
    p.add_argument("--backbone-lr-scale", type=float, help="backbone learning rate = lr x this")
    p.add_argument("--layer-decay", type=float, help="layer-wise LR decay (ViT, ConvNeXt), e.g. 0.65")
    p.add_argument("--dropout", type=float, help="head dropout rate")
    p.add_argument("--precision", choices=["auto", "float32", "bfloat16", "float16"],
                   help="compute precision (default auto: mixed bf16 where the CPU/GPU/TPU has bf16 "
                   "units, mixed float16 on 7.x GPUs, else float32); weights stay float32")
    p.add_argument("--mixed-precision", dest="precision", action="store_const", const="bfloat16",
                   help="the same as --precision bfloat16")
    p.add_argument("--accumulate", type=int, help="gradient accumulation: steps of batch-size / N "
                   "images, one update per batch (less memory, the same effective batch)")
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
    return {field: getattr(args, field) for field in RECIPE_FLAGS}


def _resolve_recipe(args):
    import recipes
    from zoo import registry

    if args.model:
        registry.get(args.model)  # unknown name -> error with the closest names
    name = args.recipe or ("quickstart" if not args.data else registry.get(args.model or "resnet50").default_recipe)
    recipe = recipes.load(name).replace(**_recipe_flags(args))
    for field in ("epochs", "image_size", "batch_size", "accumulate"):
        if getattr(recipe, field) < 1:
            raise UsageError(f"--{field.replace('_', '-')} must be >= 1, got {getattr(recipe, field)}")
    if recipe.lr <= 0:
        raise UsageError(f"--lr must be > 0, got {recipe.lr}")
    return name, recipe


def run(args) -> int:
    from zoo.run_folder import RunFolder
    from zoo.training import distribute

    cluster = distribute.setup(args.backend, args.distribute, args.coordinator,
                               args.num_processes, args.process_id)
    if args.resume and not args.out:
        raise UsageError("--resume needs --out RUN (the run folder to continue)")
    folder = RunFolder(args.out) if args.out else None
    plan = args.resume and folder.resume_plan(flags=_recipe_flags(args), recipe_name=args.recipe,
                                              data=args.data, seed=args.seed, backend=args.backend)
    if plan and plan.finished:
        print(f"run {args.out} is finished ({plan.epochs_done} epochs, test metrics in "
              f"{folder.metrics_path()}); pass --epochs N > {plan.epochs_done} to train longer")
        return 0
    if plan:
        name, recipe, args.data, args.seed = "recorded", plan.recipe, plan.data_dir, plan.seed
    else:
        name, recipe = _resolve_recipe(args)
    if args.data:
        data_dir = Path(args.data)
        if not data_dir.is_dir():
            raise UsageError(f"--data {data_dir}: no such folder")
    else:
        from data_tools.manifest import ensure_default_dataset

        data_dir = ensure_default_dataset()
    out = Path(args.out or f"runs/{recipe.model}-{args.backend}-{time.strftime('%Y%m%d-%H%M%S')}")
    from zoo.training.loop import Diverged, train
    from zoo.training.report import print_metrics

    print(f"{'resuming' if plan else 'recipe ' + name}: {recipe.model} on {args.backend}, {recipe.image_size}px, batch "
          f"{recipe.batch_size}, {recipe.epochs} epochs, data {data_dir} -> {out}", flush=True)
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
        print_metrics(result.metrics, title=f"test metrics ({result.run_dir}, {result.wall_s:.0f} s)")
    return 0
