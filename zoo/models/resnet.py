"""ResNet50/101/152 (He et al., 2016) from `keras.applications`.

The application's own layer names are kept, so `weights="imagenet"` (needs
internet) and a local `include_top=False` weights file both load. ImageNet
weights expect 'caffe' pixels (RGB->BGR, mean subtracted), which the zoo
applies inside the model. Features: `(batch, 2048)`, average-pooled.
"""

import keras

from zoo.models.applications import register_application

for _depth in (50, 101, 152):
    register_application(
        f"resnet{_depth}",
        getattr(keras.applications, f"ResNet{_depth}"),
        family="resnet",
        preprocessing="caffe",
    )
