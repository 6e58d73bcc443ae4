"""The transfer check (`python -m zoo transfer-check`): proof, offline, that fine-tuning beats training from zero.

1. Pretrain a backbone on synthetic set A (`--source-artists` artists, seed `--seed`).
2. Build `--episodes` target sets B_e: other artists (other names, styles drawn afresh from
   seed + 1000 + e) with few training images each and a large test split.
3. On each B_e, with the same epochs, batch and data: fine-tune from A's `model.keras` (heads
   alone first, then the backbone at a lower learning rate) versus the same network from
   random weights, both trained with seed + e.
Prints each episode's test artist top-1 and exits 0 when fine-tuning wins by `--margin` on
average over the episodes (few-shot results are judged on the mean over episodes: one draw of
two images per artist swings either arm by +-0.1), else 1.
Everything lands in `--out` (datasets, the run folders, `transfer.json`); a rerun there resumes.
"""

import json
import time
from pathlib import Path

from data_tools.files import write_atomic
from data_tools.plural import plural
from zoo.registry import family_of
from zoo.run_folder import RunFolder
from zoo.study.options import keep_settings

# What the check trains (measured on a 2-core CPU, see README "Fine-tuning").
SOURCE = dict(model="vit_tiny16", image_size=32, batch_size=32, optimizer="adamw", lr=1e-3,
              weight_decay=0.05, schedule="cosine", warmup_epochs=1, label_smoothing=0.1,
              augment="basic", dropout=0.1, bn_momentum="auto")
# Artists in set A by family (None: the rest). Pretrained on 12, DINOv2's frozen features cap the
# fine-tuned arm below the margin (nearest centroid 0.785 against scratch 0.648); 24 artists make
# features that carry further (README "With a DINOv2 backbone").
SOURCE_ARTISTS = {None: 12, "dinov2": 24}
# Both arms on a target set: batch 4 (8 steps an epoch on 16 x 2 images), no warm-up.
# 16 target artists on a hue wheel shared with the source artists (28 hues with 12, 40 with 24) differ subtly;
# 2 images each keep random init weak (README "Fine-tuning": measured per seed).
TARGET = dict(batch_size=4, warmup_epochs=0)
# The fine-tuning arm adds: three head-only epochs (24 steps: the head must converge on the
# frozen features before they move) at 3e-3, then the backbone at 0.1 x that.
FINETUNE = dict(lr=3e-3, freeze_epochs=3, backbone_lr_scale=0.1)


def source_artists(model: str) -> int:
    """Artists in set A for `model` when `--source-artists` is not given (SOURCE_ARTISTS)."""
    return SOURCE_ARTISTS.get(family_of(model), SOURCE_ARTISTS[None])


def make_sets(out: Path, args) -> tuple[Path, list[Path]]:
    """Synthetic source set A and the episodes' target sets B_e (artists A never had) under `out`."""
    from data_tools.build import BuildOptions, write_dataset
    from data_tools.outdir import staged
    from data_tools.synth import candidates

    size, n_a, n_b = args.image_size, args.source_artists, args.target_artists
    per_b = args.target_train + 2 + args.target_test  # 2 validation images per artist
    target_split = (args.target_train / per_b, 2 / per_b, args.target_test / per_b)
    sets = {
        "source": (candidates(n_a, args.source_per_artist, size, args.seed, genre=False), (0.8, 0.1, 0.1), None),
        # Artists n_a.. of a longer list: names A never had, styles from another seed.
        **{f"target_{e}": (candidates(n_a + n_b, per_b, size, args.seed + 1000 + e, genre=False), target_split, n_a)
           for e in range(args.episodes)},
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
    return folders[0], folders[1:]


def run(args) -> dict:
    """Pretrain, fine-tune and train from scratch; returns the summary written to transfer.json.

    `args`: the settings of zoo.cli.transfer_check (attributes of the same names); run on
    the backend keras already runs on."""
    from recipes import Recipe

    backend = __import__("keras").backend.backend()
    out = Path(args.out or f"runs/transfer-{time.strftime('%Y%m%d-%H%M%S')}")
    # A rerun in the same --out reuses its sets and finished runs: only with the same settings.
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "backend", "margin")}
    keep_settings(out, {**settings, "backend": backend}, name="settings.json")
    source, targets = make_sets(out, args)
    base = Recipe(**{**SOURCE, "model": args.model, "image_size": args.image_size})
    pretrained = str(RunFolder(out / "pretrain").model_path)
    arms = {"pretrain": (source, base.replace(epochs=args.source_epochs), args.seed)}
    for e, target in enumerate(targets):
        arms[f"finetune_{e}"] = (target, base.replace(epochs=args.epochs, weights=pretrained,
                                                      **TARGET, **FINETUNE), args.seed + e)
        arms[f"scratch_{e}"] = (target, base.replace(epochs=args.epochs, **TARGET), args.seed + e)
    top1 = {name: _train_arm(out / name, data, recipe, seed, backend)
            for name, (data, recipe, seed) in arms.items()}
    episodes = [{"finetune_top1": top1[f"finetune_{e}"], "scratch_top1": top1[f"scratch_{e}"],
                 "gain": top1[f"finetune_{e}"] - top1[f"scratch_{e}"]} for e in range(args.episodes)]
    mean = {k: sum(ep[k] for ep in episodes) / len(episodes) for k in ("finetune_top1", "scratch_top1", "gain")}
    summary = {"backend": backend, "model": args.model, "image_size": args.image_size, "seed": args.seed,
               "target_artists": args.target_artists, "target_train_per_artist": args.target_train,
               "epochs": args.epochs, "pretrain_top1": top1["pretrain"], "episodes": episodes, **mean,
               "margin": args.margin, "passed": mean["gain"] >= args.margin}
    write_atomic(out / "transfer.json", json.dumps(summary, indent=1))
    return summary


def _train_arm(run_dir: Path, data: Path, recipe, seed: int, backend: str) -> float:
    """Train one arm into `run_dir` (resuming a killed one) unless it finished; its test top-1."""
    from zoo.training.loop import train

    folder = RunFolder(run_dir)
    if not folder.metrics_path().is_file():
        print(f"transfer-check: {run_dir.name} ({recipe.model}, {plural(recipe.epochs, 'epoch')}, {data.name})", flush=True)
        started = time.time()
        train(recipe, backend=backend, data_dir=data, run_dir=run_dir,
              resume=folder.holds_run(), seed=seed, verbose=0)
        print(f"transfer-check: {run_dir.name} done in {time.time() - started:.0f} s", flush=True)
    return json.loads(folder.metrics_path().read_text())["artist_top1"]
