"""Register a keras-hub vision encoder (`zoo.models.hub.HubFamily`) as zoo backbones."""

import keras

from zoo.models import hub
from zoo.registry import register


@keras.saving.register_keras_serializable(package="zoo")
class FirstToken(keras.layers.Layer):
    """The class token of an encoder's output: `(batch, tokens, width)` -> `(batch, width)`."""

    def call(self, tokens):
        return tokens[:, 0]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


def network(family: hub.HubFamily, encoder, image_shape, name: str) -> keras.Model:
    """Normalised pixels `(batch, H, W, 3)` -> pooled features `(batch, width)` around `encoder`."""
    pixels = keras.Input(tuple(image_shape), name="pixels")
    x = encoder({"images": pixels} if isinstance(encoder.input, dict) else pixels)  # CLIP/SigLIP: a dict
    if not family.pooled:
        x = FirstToken(name="pooled")(x)
    return keras.Model(pixels, x, name=name)


def register_hub(name: str, family: hub.HubFamily, arch: dict, *, preprocessing, default_recipe: str, layer_depth) -> None:
    """Register `name`: `family`'s encoder of architecture `arch` (its `build` config).

    `weights`: None (random init) or what `hub.resolve` gave (a local folder or a keras-hub
    preset); a checkpoint of another width or patch size than `arch` raises ValueError.
    """

    def builder(input_shape, weights):
        if weights is None:
            encoder = family.build(arch, input_shape)
        else:
            encoder = hub.load_encoder(family, weights, input_shape, name)
            got = (encoder.hidden_dim, encoder.patch_size)
            if got != (arch["width"], arch["patch_size"]):
                raise ValueError(f"{weights}: width {got[0]}, patch {got[1]}; {name} is width "
                                 f"{arch['width']}, patch {arch['patch_size']}")
        return network(family, encoder, input_shape, name)

    register(name, family=family.name, preprocessing=preprocessing, patch_size=arch["patch_size"],
             min_size=arch["patch_size"], weights_preprocessing=hub.checkpoint_preprocessing,
             default_recipe=default_recipe, layer_depth=layer_depth, resolve_weights=hub.resolve)(builder)
