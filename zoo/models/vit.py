"""Vision Transformer (Dosovitskiy et al., 2021) written with Keras layers.

Keras core has no ViT, so this file builds one: 16x16 patch embedding (a strided
convolution), a learned class token, learned position embeddings, pre-norm
transformer blocks (`keras.layers.MultiHeadAttention` + GELU MLP) and a final
LayerNorm; the class token is the feature vector. At 224x224 the parameter
counts equal timm's `vit_*_patch16_224` without the classifier
(Ti 5,524,416 / S 21,665,664 / B 85,798,656). Any input side divisible by 16
works; the position table is sized for the input at build time.

Pretrained weights: `weights="pretrained"` (or "imagenet") downloads timm's ImageNet-21k
checkpoint `hf://timm/vit_{size}_patch16_224.augreg_in21k`; any `hf://timm/NAME`; a timm
checkpoint of the same size (`.safetensors`, or a
`.pth`/`.bin` torch state dict), loaded by `zoo.models.timm_vit`, or a Keras
weights file of this network (`python -m zoo convert-weights`). Pixels are
scaled to -1..1 ("tf"), as timm's augreg ImageNet weights expect, unless the
checkpoint's sidecar names another mean/std (DeiT: ImageNet's).
Features: `(batch, width)`.

Layer depth (layer decay, BEiT/MAE `get_layer_id_for_vit`): `patch_embed/*`,
`cls_position/*` -> 0; `block{i}_*` -> i + 1; everything else (`final_norm`, the
heads) -> blocks + 1.
"""

import keras
from keras import layers, ops

from zoo.models import timm_vit
from zoo.models.blocks import ordered_blocks
from zoo.registry import register

PATCH = 16

layer_depth = ordered_blocks(r"^block(\d+)_", r"^(patch_embed|cls_position)/")

# name: (width, depth, heads); MLP width is 4x.
_VARIANTS = {
    "vit_tiny16": (192, 12, 3),
    "vit_small16": (384, 12, 6),
    "vit_base16": (768, 12, 12),
    "vit_large16": (1024, 24, 16),
}



@keras.saving.register_keras_serializable(package="zoo")
class ClassTokenPosition(layers.Layer):
    """Prepend a learned class token and add learned position embeddings.

    Input `(batch, patches, width)` -> output `(batch, patches + 1, width)`.
    """

    def build(self, input_shape):
        _, patches, width = input_shape
        init = keras.initializers.TruncatedNormal(stddev=0.02)
        self.cls_token = self.add_weight(shape=(1, 1, width), initializer="zeros", name="cls_token")
        self.position = self.add_weight(shape=(1, patches + 1, width), initializer=init, name="position")

    def call(self, tokens):
        batch = ops.shape(tokens)[0]
        cls = ops.broadcast_to(ops.cast(self.cls_token, tokens.dtype), (batch, 1, tokens.shape[-1]))
        return ops.concatenate([cls, tokens], axis=1) + ops.cast(self.position, tokens.dtype)

    def compute_output_shape(self, input_shape):
        batch, patches, width = input_shape
        return (batch, patches + 1, width)


@keras.saving.register_keras_serializable(package="zoo")
class ClassTokenFeatures(layers.Layer):
    """Select the class token: `(batch, tokens, width)` -> `(batch, width)`."""

    def call(self, tokens):
        return tokens[:, 0]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


def _block(x, width: int, heads: int, name: str):
    """Pre-norm transformer block: x + MHA(LN(x)), then x + MLP(LN(x))."""
    y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm1")(x)
    y = layers.MultiHeadAttention(heads, width // heads, name=f"{name}_attn")(y, y)
    x = layers.Add(name=f"{name}_add1")([x, y])
    y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm2")(x)
    y = layers.Dense(4 * width, activation="gelu", name=f"{name}_mlp_fc1")(y)
    y = layers.Dense(width, name=f"{name}_mlp_fc2")(y)
    return layers.Add(name=f"{name}_add2")([x, y])


def vision_transformer(input_shape, *, width: int, depth: int, heads: int, name: str) -> keras.Model:
    """ViT on preprocessed pixels `(batch, H, W, C)` -> class-token features `(batch, width)`."""
    height, wide, _ = input_shape
    patches = (height // PATCH) * (wide // PATCH)
    images = keras.Input(input_shape, name="pixels")
    x = layers.Conv2D(width, PATCH, strides=PATCH, name="patch_embed")(images)
    x = layers.Reshape((patches, width), name="patch_tokens")(x)
    x = ClassTokenPosition(name="cls_position")(x)
    for i in range(depth):
        x = _block(x, width, heads, name=f"block{i}")
    x = layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    features = ClassTokenFeatures(name="cls_features")(x)
    return keras.Model(images, features, name=name)


def _make(width: int, depth: int, heads: int, name: str):
    def builder(input_shape, weights):
        if weights == "imagenet":
            raise ValueError(
                f"{name}: Keras ships no ImageNet weights for ViT; pass a timm checkpoint "
                "(--weights FILE.safetensors) or --weights none"
            )
        model = vision_transformer(input_shape, width=width, depth=depth, heads=heads, name=name)
        if weights is not None and timm_vit.is_timm_checkpoint(weights):
            state = timm_vit.read_state_dict(weights)
            timm_vit.load_timm_state(model, state, width=width, depth=depth, heads=heads, source=weights)
        elif weights is not None:
            try:
                model.load_weights(weights)
            except ValueError as e:  # Keras' message spans lines; keep its first
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise ValueError(f"{weights}: does not fit {name} at {input_shape[0]}x{input_shape[1]} "
                                 f"(convert it with --image-size {input_shape[0]}): {first}") from None
        return model

    return builder


for _name, (_width, _depth, _heads) in _VARIANTS.items():
    register(
        _name,
        family="vit",
        preprocessing="tf",
        patch_size=PATCH,
        min_size=PATCH,
        weights_preprocessing=timm_vit.checkpoint_preprocessing,
        default_recipe="vit",
        layer_depth=layer_depth,
        resolve_weights=timm_vit.resolve_hub,
    )(_make(_width, _depth, _heads, _name))
