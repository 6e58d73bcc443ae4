"""ResNet50/101/152 (He et al., 2016) from `keras.applications`.

The application's own layer names are kept, so `weights="imagenet"` (needs
internet) and a local `include_top=False` weights file both load. ImageNet
weights expect 'caffe' pixels (RGB->BGR, mean subtracted), which the zoo
applies inside the model. Features: `(batch, 2048)`, average-pooled.

Layer depth (layer decay): `conv1_*` (the stem) -> 0; the residual blocks
`conv{S}_block{B}_*` in network order -> 1..blocks (ResNet50: 16); the heads -> blocks + 1.
"""

import keras

from zoo.models.applications import register_application
from zoo.models.blocks import ordered_blocks

layer_depth = ordered_blocks(r"^conv(\d+)_block(\d+)_", r"^conv1_")

for _depth in (50, 101, 152):
    register_application(
        f"resnet{_depth}",
        getattr(keras.applications, f"ResNet{_depth}"),
        family="resnet",
        preprocessing="caffe",
        default_recipe="resnet",
        layer_depth=layer_depth,
    )
