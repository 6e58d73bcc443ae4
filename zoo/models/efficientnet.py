"""EfficientNet B0-B7 (Tan & Le, 2019) and EfficientNetV2 (2021) from `keras.applications`.

These applications rescale and normalise raw 0-255 pixels inside themselves,
so the zoo adds no preprocessing ("none"). Features: `(batch, dim)`,
average-pooled (1280 for B0 and the V2 models, up to 2560 for B7).

Layer depth (layer decay): the stem (`stem_*`, the input `normalization`/`rescaling`)
-> 0; the MBConv blocks `block{S}{b}_*` in network order -> 1..blocks (B0: 16); the
top convolution (`top_*`) and the heads -> blocks + 1.
"""

import keras

from zoo.models.applications import register_application
from zoo.models.blocks import ordered_blocks

layer_depth = ordered_blocks(r"^block(\d+)([a-z]+)_", r"^(stem_|normalization/|rescaling)")

_V2_SIZES = ("B0", "B1", "B2", "B3", "S", "M", "L")

for _i in range(8):
    register_application(
        f"efficientnet_b{_i}",
        getattr(keras.applications, f"EfficientNetB{_i}"),
        family="efficientnet",
        preprocessing="none",
        default_recipe="efficientnet",
        layer_depth=layer_depth,
    )
for _size in _V2_SIZES:
    register_application(
        f"efficientnetv2_{_size.lower()}",
        getattr(keras.applications, f"EfficientNetV2{_size}"),
        family="efficientnetv2",
        preprocessing="none",
        default_recipe="efficientnet",
        layer_depth=layer_depth,
    )
