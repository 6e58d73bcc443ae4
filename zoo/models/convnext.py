"""ConvNeXt Tiny/Small/Base/Large (Liu et al., 2022) from `keras.applications`.

The applications keep `include_preprocessing=True`: they scale 0-255 pixels by
the ImageNet mean/std inside themselves (their `*_prestem_normalization`
layer), so the zoo adds no preprocessing ("none") and nothing is normalised
twice. Layer names stay the application's (`convnext_tiny_stem`,
`convnext_tiny_downsampling_block_{0,1,2}`, `convnext_tiny_stage_{S}_block_{B}_*`),
so `weights="imagenet"` (needs internet) and an `include_top=False` weights file
both load. Features: `(batch, dim)`, average-pooled and layer-normalised
(768 for Tiny/Small, 1024 Base, 1536 Large).

Layer depth (layer decay), as the ConvNeXt paper's code (`get_num_layer_for_convnext`,
12 layers; names prefixed `convnext_{size}_`): `stem` (and `prestem`) -> 0;
`stage_0_*` -> 1; `downsampling_block_0` and `stage_1_*` -> 2; `downsampling_block_1`
-> 3; `stage_2_block_{b}_*` -> 3 + b // 3; `downsampling_block_2` and `stage_3_*` -> 12;
everything else (the pooled layer norm, the heads) -> 13.
"""

import re

import keras

from zoo.models.applications import register_application

_LAYER = re.compile(r"^convnext_[a-z]+_(stem|prestem|downsampling_block_(\d)|stage_(\d)_block_(\d+))")


def _depth(path: str) -> int:
    m = _LAYER.match(path)
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


def layer_depth(paths: list[str]) -> dict[str, int]:
    """Variable paths -> ConvNeXt depths 0-13 (module docstring)."""
    return {p: _depth(p) for p in paths}


for _size in ("Tiny", "Small", "Base", "Large"):
    register_application(
        f"convnext_{_size.lower()}",
        getattr(keras.applications, f"ConvNeXt{_size}"),
        family="convnext",
        preprocessing="none",
        default_recipe="convnext",
        layer_depth=layer_depth,
    )
