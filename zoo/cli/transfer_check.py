"""Proof, offline, that fine-tuning beats training from zero on a second set.

Pretrains on synthetic set A, then on `--episodes` target sets of new artists with few
images each fine-tunes from A versus the same network from random weights
(zoo/study/transfer.py). Exits 0 when fine-tuning wins by `--margin` on average, else 1;
everything lands in `--out`, and a rerun there resumes.
"""

from types import SimpleNamespace

from data_tools.plural import plural

NEEDS_BACKEND = True

# Flags that must be >= 1.
COUNTS = ("image_size", "source_artists", "source_per_artist", "source_epochs",
          "target_artists", "target_train", "target_test", "epochs", "episodes")


def add_arguments(p) -> None:
    from zoo.study.transfer import SOURCE  # cheap: the study imports keras only when it runs

    p.add_argument("--model", default=SOURCE["model"], help=f"zoo model (default {SOURCE['model']})")
    p.add_argument("--image-size", type=int, help=f"default {SOURCE['image_size']}, rounded down to the "
                   "model's patch size (28 for the /14 models: DINOv2, CLIP-L)")
    p.add_argument("--source-artists", type=int,
                   help="artists in set A (default 12; DINOv2: 24, zoo.study.transfer.SOURCE_ARTISTS)")
    p.add_argument("--source-per-artist", type=int, default=40)
    p.add_argument("--source-epochs", type=int, default=5)
    p.add_argument("--target-artists", type=int, default=16)
    p.add_argument("--target-train", type=int, default=2, help="training images per target artist")
    p.add_argument("--target-test", type=int, default=10, help="test images per target artist")
    p.add_argument("--epochs", type=int, default=10, help="epochs on a target set (both arms)")
    p.add_argument("--episodes", type=int, default=3, help="target sets drawn; the verdict is on their mean")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--margin", type=float, default=0.15, help="top-1 lead that counts as a win")
    p.add_argument("--out", help="folder (default runs/transfer-<time>)")


def _print_summary(summary: dict, margin: float) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"transfer-check: {summary['target_artists']} new artists, "
                        f"{summary['target_train_per_artist']} training images each, "
                        f"{plural(summary['epochs'], 'epoch')} "
                        f"(pretrained backbone: {summary['pretrain_top1']:.3f} on its own test split)")
    for column in ("target set", "fine-tuned top-1", "from scratch top-1", "gain"):
        table.add_column(column, justify="left" if column == "target set" else "right")
    for e, ep in enumerate([*summary["episodes"], summary]):
        name = f"episode {e}" if e < len(summary["episodes"]) else "mean"
        table.add_row(name, f"{ep['finetune_top1']:.3f}", f"{ep['scratch_top1']:.3f}", f"{ep['gain']:+.3f}")
    Console().print(table)
    verdict = "passed" if summary["passed"] else "FAILED"
    print(f"transfer-check {verdict}: fine-tuning - scratch = {summary['gain']:+.3f} on average over "
          f"{len(summary['episodes'])} target set(s) (needs >= {margin})")


def run(args) -> int:
    from zoo.cli.study_options import check_at_least
    from zoo.registry import input_rule
    from zoo.study.transfer import SOURCE, source_artists

    if args.source_artists is None:
        args.source_artists = source_artists(args.model)
    if args.image_size is None:
        patch = input_rule(args.model)[1]
        args.image_size = SOURCE["image_size"] // patch * patch
    check_at_least(args, 1, *COUNTS)
    if args.target_artists < 2:
        raise ValueError("--target-artists must be >= 2")
    from zoo.study import transfer

    summary = transfer.run(SimpleNamespace(**{k: v for k, v in vars(args).items() if k != "command"}))
    _print_summary(summary, args.margin)
    return 0 if summary["passed"] else 1
