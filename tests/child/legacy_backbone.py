"""The tiny backbone `legacy_tiny` that tests/fixtures/legacy_a31ce08 was made with (MADE_BY.py).

Importing this module registers it (once) through the registry's public decorator.
"""

import keras

from zoo import registry

NAME = "legacy_tiny"


def tiny(input_shape, weights):
    """conv 3x3/2 (8) -> BN -> ReLU -> global average pool: `(B, 8)` features."""
    x = inp = keras.Input(input_shape)
    x = keras.layers.Conv2D(8, 3, strides=2, name="conv1")(x)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inp, x, name="legacy_tiny")


if NAME not in registry.list_models():
    registry.register(NAME, family="resnet", preprocessing="caffe")(tiny)
