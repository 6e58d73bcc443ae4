"""timm ViT checkpoint -> Keras weights (`python -m zoo convert-weights`, zoo/cli/convert_weights.py).

Reads a timm `vit_*_patch16` state dict (.safetensors without torch; .pth/.bin
with torch), resamples its position table to `image_size`, and writes the
zoo network's weights plus a sidecar `FILE.weights.h5.json` holding the pixel
mean/std the checkpoint expects, so that
`zoo.backbone(NAME, input_shape=(PX, PX, 3), weights=FILE.weights.h5)` loads both.
"""

import json
from pathlib import Path

from data_tools.files import atomic_path, write_atomic
from data_tools.usage import UsageError


def check(src: Path, model: str, out: Path) -> None:
    """UsageError unless `src` is a timm checkpoint, `model` a ViT and `out` a .weights.h5 name."""
    from zoo import registry
    from zoo.models import timm_vit

    if registry.get(model).family != "vit":
        raise UsageError(f"--model {model}: convert-weights takes a ViT ({', '.join(registry.list_models('vit'))})")
    if not src.is_file():
        raise UsageError(f"{src}: checkpoint not found")
    if not timm_vit.is_timm_checkpoint(src):
        raise UsageError(f"{src}: expected a .safetensors, .pth, .pt or .bin checkpoint")
    if not out.name.endswith(".weights.h5"):
        raise UsageError(f"--out {out}: the file name must end in .weights.h5")


def convert(src: Path, model: str, out: Path, image_size: int, preprocessing: dict | None = None) -> dict:
    """Write `out` (weights) and `out`.json (sidecar) atomically; returns the sidecar plus
    `params`. `preprocessing` {"mean", "std"} in 0-1 units; None: the checkpoint's own."""
    import zoo
    from zoo.models import timm_vit

    check(src, model, out)
    pre = preprocessing or timm_vit.checkpoint_preprocessing(src)
    shape = zoo.check_input_shape(model, (image_size, image_size, 3))
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out, suffix=".weights.h5") as tmp:
        net = zoo.backbone(model, input_shape=shape, weights=src, preprocessing=pre).get_layer(model)
        net.save_weights(tmp)
        sidecar = {**pre, "source": str(src), "model": model, "image_size": image_size}
        write_atomic(f"{out}.json", json.dumps(sidecar, indent=1) + "\n")
    return {**sidecar, "params": net.count_params()}
