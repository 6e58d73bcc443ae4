"""timm ViT checkpoint -> Keras weights file + mean/std sidecar (FILE.weights.h5.json).

`python -m zoo convert-weights SRC --model NAME --out FILE.weights.h5`; then
`zoo.backbone(NAME, input_shape=(PX, PX, 3), weights=FILE.weights.h5)` loads both
(zoo/models/convert.py).
"""

from pathlib import Path

from data_tools.usage import UsageError

NEEDS_BACKEND = True


def add_arguments(p) -> None:
    p.add_argument("src", help="timm checkpoint: .safetensors, .pth, .pt or .bin")
    p.add_argument("--model", required=True, help="zoo ViT name: vit_tiny16, vit_small16, vit_base16, vit_large16")
    p.add_argument("--out", required=True, help="output FILE.weights.h5")
    p.add_argument("--image-size", type=int, default=224, help="input side in pixels the weights are for (224)")
    p.add_argument("--mean", type=float, nargs=3, metavar=("R", "G", "B"),
                   help="pixel mean in 0-1 units (default: the checkpoint's config.json, else 0.5)")
    p.add_argument("--std", type=float, nargs=3, metavar=("R", "G", "B"), help="pixel std in 0-1 units")


def run(args) -> int:
    from rich.console import Console

    from zoo.models import convert

    src, out = Path(args.src), Path(args.out)
    convert.check(src, args.model, out)
    if (args.mean is None) != (args.std is None):
        raise UsageError("--mean and --std go together")
    pre = {"mean": args.mean, "std": args.std} if args.mean else None
    with Console(stderr=True).status(f"{src.name} -> {args.model} at {args.image_size} px"):
        done = convert.convert(src, args.model, out, args.image_size, pre)
    print(f"{out}: {args.model} at {args.image_size}x{args.image_size}, {done['params']:,} parameters, "
          f"mean {done['mean']} std {done['std']} (sidecar {out.name}.json)")
    return 0
