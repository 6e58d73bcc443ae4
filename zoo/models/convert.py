"""`python -m zoo convert-weights SRC --model NAME --out FILE.weights.h5`: timm ViT checkpoint -> Keras weights.

Reads a timm `vit_*_patch16` state dict (.safetensors without torch; .pth/.bin
with torch), resamples its position table to `--image-size`, and writes the
zoo network's weights plus a sidecar `FILE.weights.h5.json` holding the pixel
mean/std the checkpoint expects, so that
`zoo.backbone(NAME, input_shape=(PX, PX, 3), weights=FILE.weights.h5)` loads both.
"""

import json
import os
from pathlib import Path

from rich.console import Console

from zoo.cli import Parser, UsageError


def _parser() -> Parser:
    p = Parser(
        prog="python -m zoo convert-weights",
        description="timm ViT checkpoint -> Keras weights file + mean/std sidecar (FILE.weights.h5.json).",
    )
    p.add_argument("src", help="timm checkpoint: .safetensors, .pth, .pt or .bin")
    p.add_argument(
        "--model",
        required=True,
        help="zoo ViT name: vit_tiny16, vit_small16, vit_base16, vit_large16",
    )
    p.add_argument("--out", required=True, help="output FILE.weights.h5")
    p.add_argument(
        "--image-size", type=int, default=224, help="input side in pixels the weights are for (224)"
    )
    p.add_argument(
        "--mean",
        type=float,
        nargs=3,
        metavar=("R", "G", "B"),
        help="pixel mean in 0-1 units (default: the checkpoint's config.json, else 0.5)",
    )
    p.add_argument(
        "--std", type=float, nargs=3, metavar=("R", "G", "B"), help="pixel std in 0-1 units"
    )
    return p


def main(argv) -> int:
    args = _parser().parse_args(argv)
    import zoo
    from zoo import registry
    from zoo.models import timm_vit

    spec = registry.get(args.model)
    if spec.family != "vit":
        raise UsageError(
            f"--model {args.model}: convert-weights takes a ViT ({', '.join(zoo.list_models('vit'))})"
        )
    src, out = Path(args.src), Path(args.out)
    if not src.is_file():
        raise UsageError(f"{src}: checkpoint not found")
    if not timm_vit.is_timm_checkpoint(src):
        raise UsageError(f"{src}: expected a .safetensors, .pth, .pt or .bin checkpoint")
    if not out.name.endswith(".weights.h5"):
        raise UsageError(f"--out {out}: the file name must end in .weights.h5")
    if (args.mean is None) != (args.std is None):
        raise UsageError("--mean and --std go together")
    pre = (
        {"mean": args.mean, "std": args.std}
        if args.mean
        else timm_vit.checkpoint_preprocessing(src)
    )
    shape = zoo.check_input_shape(args.model, (args.image_size, args.image_size, 3))

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name.removesuffix(".weights.h5") + ".partial.weights.h5")
    with Console(stderr=True).status(f"{src.name} -> {args.model} at {args.image_size} px"):
        net = zoo.backbone(args.model, input_shape=shape, weights=src, preprocessing=pre)
        net = net.get_layer(args.model)
        net.save_weights(partial)
    sidecar = {**pre, "source": str(src), "model": args.model, "image_size": args.image_size}
    Path(str(partial) + ".json").write_text(json.dumps(sidecar, indent=1) + "\n")
    os.replace(str(partial) + ".json", str(out) + ".json")
    os.replace(partial, out)
    print(
        f"{out}: {args.model} at {args.image_size}x{args.image_size}, {net.count_params():,} parameters, "
        f"mean {pre['mean']} std {pre['std']} (sidecar {out.name}.json)"
    )
    return 0
