"""ConvNeXt Tiny/Small/Base/Large (Liu et al., 2022) from `keras.applications`.

The applications keep `include_preprocessing=True`: they scale 0-255 pixels by
the ImageNet mean/std inside themselves (their `*_prestem_normalization`
layer), so the zoo adds no preprocessing ("none") and nothing is normalised
twice. Layer names stay the application's (`convnext_tiny_stem`,
`convnext_tiny_downsampling_block_{0,1,2}`, `convnext_tiny_stage_{S}_block_{B}_*`),
so `weights="imagenet"` (needs internet) and an `include_top=False` weights file
both load. Features: `(batch, dim)`, average-pooled and layer-normalised
(768 for Tiny/Small, 1024 Base, 1536 Large).
"""

import keras

from zoo.models.applications import register_application

for _size in ("Tiny", "Small", "Base", "Large"):
    register_application(
        f"convnext_{_size.lower()}",
        getattr(keras.applications, f"ConvNeXt{_size}"),
        family="convnext",
        preprocessing="none",
    )
