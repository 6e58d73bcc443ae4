"""Layer depth of each backbone variable, for layer-wise learning-rate decay.

As in BEiT/MAE fine-tuning (ViT: `get_layer_id_for_vit`) and the ConvNeXt
paper's code (`get_num_layer_for_convnext`, 12 layers): the learning rate of a
variable at depth d is `lr * decay ** (top - d)`, `top = max(depths)`.

ViT (`zoo.models.vit`): `patch_embed/*`, `cls_position/*` -> 0; `block{i}_*` -> i + 1;
everything else (`final_norm`, the heads) -> blocks + 1.
ConvNeXt (keras.applications names, prefix `convnext_{size}_`): `stem` -> 0;
`stage_0_*` -> 1; `downsampling_block_0` and `stage_1_*` -> 2;
`downsampling_block_1` -> 3; `stage_2_block_{b}_*` -> 3 + b // 3;
`downsampling_block_2` and `stage_3_*` -> 12; everything else (the pooled
layer norm, the heads) -> 13.
"""

import re

_VIT_BLOCK = re.compile(r"^block(\d+)_")
_CONVNEXT = re.compile(
    r"^convnext_[a-z]+_(stem|prestem|downsampling_block_(\d)|stage_(\d)_block_(\d+))"
)


def layer_depth(model) -> dict[str, int]:
    """`variable.path -> depth` for every variable of `model`, a ViT or ConvNeXt
    backbone or a `zoo.build` model containing one (heads get the top depth).

    Raises ValueError for other families (no agreed layer order).
    """
    paths = [v.path for v in model.weights]
    if any(p.startswith("cls_position/") for p in paths):
        return _vit(paths)
    if any(_CONVNEXT.match(p) for p in paths):
        return {p: _convnext(p) for p in paths}
    raise ValueError(
        f"{model.name}: layer-wise learning-rate decay needs a ViT or ConvNeXt backbone"
    )


def _vit(paths: list[str]) -> dict[str, int]:
    blocks = {int(m.group(1)) for p in paths if (m := _VIT_BLOCK.match(p))}
    top = max(blocks, default=-1) + 2
    depths = {}
    for p in paths:
        if p.startswith(("patch_embed/", "cls_position/")):
            depths[p] = 0
        elif m := _VIT_BLOCK.match(p):
            depths[p] = int(m.group(1)) + 1
        else:
            depths[p] = top
    return depths


def _convnext(path: str) -> int:
    m = _CONVNEXT.match(path)
    if m is None:
        return 13
    part, down, stage, block = m.groups()
    if part in ("stem", "prestem"):
        return 0
    if down is not None:
        return (2, 3, 12)[int(down)]
    stage, block = int(stage), int(block)
    if stage < 2:
        return stage + 1
    return 3 + block // 3 if stage == 2 else 12
