"""Training/inference speed and memory of zoo models per backend and precision.

Each model x size x batch x backend x precision runs in its own process on random data
(zoo/study/bench.py says how it is timed); results go to one JSON file and a table.
"""

import argparse
from pathlib import Path

from data_tools.usage import UsageError
from zoo.cli.study_options import add_backends, check_at_least, check_backends, comma_list, int_list


def _precision_list(text: str) -> list[str]:
    """argparse type: "float32,auto" -> a list of known precisions."""
    from recipes import choices

    names, valid = comma_list(text), choices("precision")
    bad = [n for n in names if n not in valid]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown {', '.join(bad) or '(empty)'}; valid: {', '.join(valid)}")
    return names


def add_arguments(p) -> None:
    from recipes import choices

    p.add_argument("--models", type=comma_list, default=["resnet50"], help="comma-separated (default resnet50)")
    add_backends(p)
    p.add_argument("--image-size", type=int_list, default=[128], help="square side(s) in px (default 128)")
    p.add_argument("--batch-size", type=int_list, default=[16], help="batch size(s) (default 16)")
    p.add_argument("--steps", type=int, default=5, help="timed steps (default 5)")
    p.add_argument("--warmup", type=int, default=2, help="steps after the compiling one, not timed")
    p.add_argument("--precision", type=_precision_list, default=["float32", "auto"],
                   help=f"comma-separated, side by side (default float32,auto; valid: {', '.join(choices('precision'))})")
    p.add_argument("--mixed-precision", dest="precision", action="store_const", const=["bfloat16"],
                   help="the same as --precision bfloat16")
    p.add_argument("--jit", choices=["auto", "on", "off"], default="auto",
                   help="model.jit_compile: auto = Keras' choice (JAX: XLA; TF on CPU: graph without "
                        "XLA; torch: eager); on = XLA / torch.compile")
    p.add_argument("--applications", action="store_true",
                   help="also the keras.applications model, and the paired zoo/applications ratio")
    p.add_argument("--no-native", action="store_true", help="skip the native PyTorch ResNet50 line")
    p.add_argument("--memory-only", action="store_true",
                   help="peak memory of a training step only (2 steps; no inference, no references)")
    p.add_argument("--runtimes", default="auto", metavar="MODEL.keras|auto|none",
                   help="inference img/s of Keras vs ONNX Runtime vs OpenVINO at batch 1 and 32 on this "
                        "saved model; auto (default): the first --models at the first --image-size, "
                        "random weights; none: skip")
    p.add_argument("--out", default="runs/bench/bench.json", help="JSON file (default runs/bench/bench.json)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds before one measurement is killed")


def check(args) -> None:
    """UsageError/ValueError for a mistake in the parsed `args`."""
    check_at_least(args, 1, "image_size", "batch_size", "steps")
    check_at_least(args, 0, "warmup")
    check_backends(args.backends)
    if args.runtimes not in ("auto", "none") and not Path(args.runtimes).is_file():
        raise UsageError(f"--runtimes {args.runtimes}: no such model file")
    import zoo

    for name in args.models:
        for size in args.image_size:
            zoo.check_input_shape(name, (size, size, 3))  # unknown/bad: ValueError, exit 2


def run(args) -> int:
    check(args)
    from zoo.study import bench

    report = bench.run(args)
    return 0 if all(r["status"] == r.get("ratio_status", "ok") == "ok" for r in report["results"]) else 1
