"""`python -m zoo {train,evaluate,predict,list}`: the launcher.

User mistakes (unknown model/backend/recipe, missing data, bad sizes, unsafe
files) print one `error: ...` line and exit 2; a diverged run exits 3.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

from zoo.backend_select import BACKENDS


class UsageError(Exception):
    """A user mistake: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose mistakes are a `UsageError` (one line, exit 2)."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m zoo", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    t = sub.add_parser("train", help="train a recipe; writes a run folder")
    t.add_argument("--model", help="zoo model name (default: the recipe's)")
    t.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "jax"))
    t.add_argument("--recipe", help="recipe name in recipes/ (default: quickstart on the "
                   "embedded dataset, else the model family's)")
    t.add_argument("--data", help="dataset folder with manifest.csv (default: embedded synthetic set)")
    t.add_argument("--epochs", type=int)
    t.add_argument("--image-size", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--augment", choices=["none", "basic", "randaugment"])
    t.add_argument("--mix", choices=["mixup", "cutmix"])
    t.add_argument("--image-filter", help='e.g. "lowpass:0.2", "highpass:0.1", "sharpen"')
    t.add_argument("--weights", help='"imagenet", "none" (random init), a backbone weights file, or '
                   "an earlier RUN/model.keras (its backbone; heads replaced when the labels differ)")
    t.add_argument("--freeze-epochs", type=int, help="first N epochs train the heads only")
    t.add_argument("--backbone-lr-scale", type=float, help="backbone learning rate = lr x this")
    t.add_argument("--layer-decay", type=float, help="layer-wise LR decay (ViT, ConvNeXt), e.g. 0.65")
    t.add_argument("--dropout", type=float, help="head dropout rate")
    t.add_argument("--precision", choices=["auto", "float32", "bfloat16", "float16"],
                   help="compute precision (default auto: mixed bf16 where the CPU/GPU/TPU has bf16 "
                   "units, mixed float16 on 7.x GPUs, else float32); weights stay float32")
    t.add_argument("--mixed-precision", dest="precision", action="store_const", const="bfloat16",
                   help="the same as --precision bfloat16")
    t.add_argument("--accumulate", type=int, help="gradient accumulation: steps of batch-size / N "
                   "images, one update per batch (less memory, the same effective batch)")
    t.add_argument("--distribute", choices=["none", "data_parallel"],
                   help="data_parallel: keras.distribution.DataParallel over all devices (JAX)")
    t.add_argument("--coordinator", help="multi-host: HOST:PORT of process 0 (JAX)")
    t.add_argument("--num-processes", type=int, help="multi-host: number of processes")
    t.add_argument("--process-id", type=int, help="multi-host: this process, 0..N-1")
    t.add_argument("--out", help="run folder (default runs/<model>-<backend>-<time>)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out with its recorded "
                   "recipe, data and seed; --epochs N trains it to N epochs")
    t.add_argument("--seed", type=int, help="default 0")

    e = sub.add_parser("evaluate", help="metrics + confusion matrix of a saved model")
    e.add_argument("model_file")
    e.add_argument("--data", required=True)
    e.add_argument("--split", default="test", choices=["train", "val", "test"])
    e.add_argument("--out", help="folder for metrics-SPLIT.json and confusion_matrix-SPLIT.png "
                   "(default: beside the model)")
    e.add_argument("--batch-size", type=int, default=32)
    e.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "jax"))

    r = sub.add_parser("predict", help="top-k artists, movement and year per image (JSON lines)")
    r.add_argument("model_file")
    r.add_argument("images", nargs="+")
    r.add_argument("--top-k", type=int, default=5)
    r.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "jax"))

    sub.add_parser("list", help="list models and recipes")
    for name, (_, help_text) in MODULE_COMMANDS.items():  # listed in --help; parsed by their modules
        sub.add_parser(name, help=f"{help_text} (see {name} --help)", add_help=False)
    return p


def _use_backend(name: str) -> None:
    if name not in BACKENDS:
        raise UsageError(f"unknown backend {name!r}; valid: {', '.join(BACKENDS)}")
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = name
    import keras

    if keras.backend.backend() != name:
        raise UsageError(f"keras already runs on {keras.backend.backend()!r} in this Python process; "
                         f"pass --backend {keras.backend.backend()} or start a new process with "
                         f"KERAS_BACKEND={name}")


def _recipe_flags(args) -> dict:
    """Recipe field -> flag value (None where the flag was not given)."""
    from zoo.training.resume import RECIPE_FLAGS

    return {field: getattr(args, field) for field in RECIPE_FLAGS}


def _resolve_recipe(args):
    import recipes
    from zoo import registry

    if args.model:
        registry.get(args.model)  # unknown name -> error with the closest names
    name = args.recipe or ("quickstart" if not args.data else recipes.default_for(args.model or "resnet50"))
    recipe = recipes.load(name).replace(**_recipe_flags(args))
    for field in ("epochs", "image_size", "batch_size", "accumulate"):
        if getattr(recipe, field) < 1:
            raise UsageError(f"--{field.replace('_', '-')} must be >= 1, got {getattr(recipe, field)}")
    if recipe.lr <= 0:
        raise UsageError(f"--lr must be > 0, got {recipe.lr}")
    return name, recipe


def cmd_train(args) -> int:
    _use_backend(args.backend)
    from zoo.training import distribute

    cluster = distribute.setup(args.backend, args.distribute, args.coordinator,
                               args.num_processes, args.process_id)
    if args.resume and not args.out:
        raise UsageError("--resume needs --out RUN (the run folder to continue)")
    from zoo.training import resume

    plan = args.resume and resume.plan(Path(args.out), _recipe_flags(args), recipe_name=args.recipe,
                                       data=args.data, seed=args.seed, backend=args.backend)
    if plan and plan.finished:
        print(f"run {args.out} is finished ({plan.epochs_done} epochs, test metrics in "
              f"{Path(args.out) / 'metrics.json'}); pass --epochs N > {plan.epochs_done} to train longer")
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


def cmd_evaluate(args) -> int:
    _use_backend(args.backend)
    import zoo
    from data_tools.pipeline import make_dataset
    from zoo.training.loop import evaluate_into
    from zoo.training.report import labels_from_model, print_metrics

    model = zoo.load_model(args.model_file, compile=False)
    labels = labels_from_model(model)
    size = tuple(model.input_shape[1:3])
    ds = make_dataset(args.data, args.split, labels, image_size=size, batch_size=args.batch_size)
    out = Path(args.out or Path(args.model_file).parent)
    out.mkdir(parents=True, exist_ok=True)
    metrics = evaluate_into(model, ds, labels, out, split=args.split, suffix=f"-{args.split}")
    print_metrics(metrics, title=f"{args.split} metrics of {args.model_file}")
    print(json.dumps(metrics))
    return 0


def cmd_predict(args) -> int:
    _use_backend(args.backend)
    if args.top_k < 1:
        raise UsageError(f"--top-k must be >= 1, got {args.top_k}")
    import zoo
    from zoo.training.predict import predict_images

    model = zoo.load_model(args.model_file, compile=False)
    failures = 0
    for line in predict_images(model, args.images, top_k=args.top_k):
        failures += "error" in line
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 1 if failures else 0


def cmd_list(args) -> int:
    import recipes
    import zoo

    print("models: " + " ".join(zoo.list_models()))
    print("recipes: " + " ".join(recipes.list_recipes()))
    return 0


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "list": cmd_list}


# Subcommands with their own argument parsers, in their own modules: name -> "module:function".
# Each function takes the arguments after the subcommand and returns the exit code.
MODULE_COMMANDS = {
    "compare": ("zoo.study.compare:main", "leaderboard of models x backends"),
    "bench": ("zoo.study.bench:main", "training/inference speed and memory"),
    "transfer-check": ("zoo.study.transfer:main", "fine-tuning vs from-scratch on a second set"),
    "convert-weights": ("zoo.models.convert:main", "timm ViT checkpoint -> zoo weights file"),
    "explain": ("zoo.explain:main", "heatmaps of what a model looked at"),
    "export": ("zoo.export:main", "ONNX / SavedModel / OpenVINO / LiteRT, verified by its runtime"),
    "serve": ("zoo.serving.app:main", "JSON API and web page for a saved model"),
    "embed": ("zoo.similar:main_embed", "pooled feature vectors of a dataset"),
    "similar": ("zoo.similar:main_similar", "closest works by cosine similarity"),
}


def _run_module_command(name: str, argv: list[str]) -> int:
    import importlib

    module, function = MODULE_COMMANDS[name][0].split(":")
    return int(getattr(importlib.import_module(module), function)(argv) or 0)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and argv[0] in MODULE_COMMANDS:
            return _run_module_command(argv[0], argv[1:])
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; resume with --resume --out RUN", file=sys.stderr)
        return 130
