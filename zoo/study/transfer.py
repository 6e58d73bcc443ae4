"""`python -m zoo transfer-check`: proof, offline, that fine-tuning beats training from zero.

1. Pretrain a backbone on synthetic set A (`--source-artists` artists, seed `--seed`).
2. Build set B: other artists (other names, seed + 1000, styles drawn afresh) with few
   training images each and a large test split.
3. On B, with the same epochs and data: fine-tune from A's `model.keras` (frozen first
   two epochs, backbone at a lower learning rate) versus the same network from random weights.
Prints both test artist top-1 and exits 0 when fine-tuning wins by `--margin`, else 1.
Everything lands in `--out` (datasets, the three run folders, `transfer.json`).
"""

import json
import time
from pathlib import Path

from zoo.cli import Parser
from zoo.study.options import keep_settings

# What the check trains (measured on a 2-core CPU, see README "Fine-tuning").
SOURCE = dict(model="vit_tiny16", image_size=32, batch_size=32, optimizer="adamw", lr=1e-3,
              weight_decay=0.05, schedule="cosine", warmup_epochs=1, label_smoothing=0.1,
              augment="basic", dropout=0.1, bn_momentum="auto")
# Both arms on the target set: batch 8 (4 steps an epoch on 16 x 2 images), no warm-up.
# 16 target artists on a hue wheel shared with the 12 source artists (28 hues) differ subtly;
# 2 images each and 6 epochs keep random init weak (README "Fine-tuning": measured per seed).
TARGET = dict(batch_size=8, warmup_epochs=0)
# The fine-tuning arm adds: two head-only epochs at a linear-probe learning rate, then the
# backbone at 0.1 x that (3e-4, below the from-scratch 1e-3).
FINETUNE = dict(lr=3e-3, freeze_epochs=2, backbone_lr_scale=0.1)


def _parser() -> Parser:
    p = Parser(prog="python -m zoo transfer-check", description=__doc__.splitlines()[0])
    p.add_argument("--backend", help="jax | tensorflow | torch (default: $KERAS_BACKEND, else jax)")
    p.add_argument("--model", default=SOURCE["model"])
    p.add_argument("--image-size", type=int, default=SOURCE["image_size"])
    p.add_argument("--source-artists", type=int, default=12)
    p.add_argument("--source-per-artist", type=int, default=40)
    p.add_argument("--source-epochs", type=int, default=5)
    p.add_argument("--target-artists", type=int, default=16)
    p.add_argument("--target-train", type=int, default=2, help="training images per target artist")
    p.add_argument("--target-test", type=int, default=10, help="test images per target artist")
    p.add_argument("--epochs", type=int, default=6, help="epochs on the target set (both arms)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--margin", type=float, default=0.15, help="top-1 lead that counts as a win")
    p.add_argument("--out", help="folder (default runs/transfer-<time>)")
    return p


def make_sets(out: Path, args) -> tuple[Path, Path]:
    """Synthetic source set A and target set B (disjoint artists) under `out`."""
    from data_tools.build import BuildOptions, write_dataset
    from data_tools.outdir import staged
    from data_tools.synth import candidates

    size, n_a, n_b = args.image_size, args.source_artists, args.target_artists
    per_b = args.target_train + 2 + args.target_test  # 2 validation images per artist
    sets = {
        "source": (candidates(n_a, args.source_per_artist, size, args.seed), (0.8, 0.1, 0.1), None),
        # Artists n_a.. of a longer list: names A never had, styles from another seed.
        "target": (candidates(n_a + n_b, per_b, size, args.seed + 1000),
                   (args.target_train / per_b, 2 / per_b, args.target_test / per_b), n_a),
    }
    folders = []
    for name, (cands, split, skip) in sets.items():
        folder = out / f"data_{name}"
        if skip is not None:
            keep = sorted({c.artist for c in cands}, key=[c.artist for c in cands].index)[skip:]
            cands = [c for c in cands if c.artist in keep]
        if not (folder / "manifest.csv").is_file():
            opts = BuildOptions(top_artists=0, min_per_artist=1, max_side=None, split=split,
                                seed=args.seed, near_duplicate_bits=None, exact_split=True)
            with staged(folder, False) as tmp:
                write_dataset(tmp, cands, [], opts, label=f"synth {name}")
        folders.append(folder)
    return folders[0], folders[1]


def run(args) -> dict:
    """Pretrain, fine-tune and train from scratch; returns the summary written to transfer.json."""
    from recipes import Recipe
    from zoo.training.loop import train

    backend = __import__("keras").backend.backend()
    out = Path(args.out or f"runs/transfer-{time.strftime('%Y%m%d-%H%M%S')}")
    # A rerun in the same --out reuses its sets and finished runs: only with the same settings.
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "backend", "margin")}
    keep_settings(out, {**settings, "backend": backend}, name="settings.json")
    source, target = make_sets(out, args)
    base = Recipe(**{**SOURCE, "model": args.model, "image_size": args.image_size})
    arms = {
        "pretrain": (source, base.replace(epochs=args.source_epochs)),
        "finetune": (target, base.replace(epochs=args.epochs, weights=str(out / "pretrain" / "model.keras"),
                                          **TARGET, **FINETUNE)),
        "scratch": (target, base.replace(epochs=args.epochs, **TARGET)),
    }
    results = {}
    for name, (data, recipe) in arms.items():
        run_dir = out / name
        if not (run_dir / "metrics.json").is_file():
            print(f"transfer-check: {name} ({recipe.model}, {recipe.epochs} epochs, {data.name})", flush=True)
            started = time.time()
            train(recipe, backend=backend, data_dir=data, run_dir=run_dir,
                  resume=(run_dir / "config.json").is_file(), seed=args.seed, verbose=0)
            print(f"transfer-check: {name} done in {time.time() - started:.0f} s", flush=True)
        metrics = json.loads((run_dir / "metrics.json").read_text())
        results[name] = {"artist_top1": metrics["artist_top1"], "images": metrics.get("images")}
    gain = results["finetune"]["artist_top1"] - results["scratch"]["artist_top1"]
    summary = {"backend": backend, "model": args.model, "image_size": args.image_size, "seed": args.seed,
               "target_artists": args.target_artists, "target_train_per_artist": args.target_train,
               "epochs": args.epochs, **{f"{k}_top1": v["artist_top1"] for k, v in results.items()},
               "gain": gain, "passed": gain >= args.margin}
    (out / "transfer.json").write_text(json.dumps(summary, indent=1))
    return summary


def main(argv) -> int:
    args = _parser().parse_args(argv)
    for flag in ("image_size", "source_artists", "source_per_artist", "source_epochs",
                 "target_artists", "target_train", "target_test", "epochs"):
        if getattr(args, flag) < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    if args.target_artists < 2:
        raise ValueError("--target-artists must be >= 2")
    from zoo.cli import _use_backend

    _use_backend(args.backend or __import__("os").environ.get("KERAS_BACKEND", "jax"))
    summary = run(args)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"transfer-check: {summary['target_artists']} new artists, "
                        f"{summary['target_train_per_artist']} training images each, {summary['epochs']} epochs")
    table.add_column("run")
    table.add_column("test artist top-1", justify="right")
    for name in ("pretrain", "finetune", "scratch"):
        table.add_row(name, f"{summary[f'{name}_top1']:.3f}")
    Console().print(table)
    verdict = "passed" if summary["passed"] else "FAILED"
    print(f"transfer-check {verdict}: fine-tuning - scratch = {summary['gain']:+.3f} "
          f"(needs >= {args.margin})")
    return 0 if summary["passed"] else 1
