"""EfficientNet B0-B7 (Tan & Le, 2019) and EfficientNetV2 (2021) from `keras.applications`.

These applications rescale and normalise raw 0-255 pixels inside themselves,
so the zoo adds no preprocessing ("none"). Features: `(batch, dim)`,
average-pooled (1280 for B0 and the V2 models, up to 2560 for B7).
"""

import keras

from zoo.models.applications import register_application

_V2_SIZES = ("B0", "B1", "B2", "B3", "S", "M", "L")

for _i in range(8):
    register_application(
        f"efficientnet_b{_i}",
        getattr(keras.applications, f"EfficientNetB{_i}"),
        family="efficientnet",
        preprocessing="none",
    )
for _size in _V2_SIZES:
    register_application(
        f"efficientnetv2_{_size.lower()}",
        getattr(keras.applications, f"EfficientNetV2{_size}"),
        family="efficientnetv2",
        preprocessing="none",
    )
