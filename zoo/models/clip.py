"""CLIP (Radford et al., 2021) vision tower, as keras-hub's `CLIPVisionEncoder`.

Image-text pretraining on 400M pairs; its frozen features are strong on art style and
retrieval. Names: `clip_base16` (ViT-B/16, 768 wide, 12 blocks) and `clip_large14`
(ViT-L/14, 1024, 24). Features: the class token after `post_layernorm`, `(batch, width)`,
transformers' `CLIPVisionModel.pooler_output` (before the text-aligned projection).
Pixels: OpenAI's mean/std (inside the model).

Weights (`zoo.models.hub`): `"pretrained"`/`"imagenet"` = `hf://openai/clip-vit-base-patch16`
/ `-large-patch14`, a keras-hub preset (`clip_vit_base_patch16`: its vision encoder), another
`hf://` handle or a local folder. keras-hub has no transformers converter for `clip`, so
`port` maps the keys (`CLIPModel` or `CLIPVisionModel`, `vision_model.*`) onto the encoder,
as keras-hub's `convert_metaclip_2.py` does for MetaCLIP 2. Another input size than the
checkpoint's gets the position table resampled as transformers' `interpolate_pos_encoding`.

Layer depth (layer decay): `embedding/*`, `pre_layer_norm/*` -> 0; `encoder_block_N/*` -> N + 1;
`layer_norm` and the heads -> blocks + 1.
"""

import numpy as np

from zoo.models import hub
from zoo.models.blocks import ordered_blocks
from zoo.models.hub_family import register_hub

layer_depth = ordered_blocks(r"^encoder_block_(\d+)/", r"^(embedding|pre_layer_norm)/")

# name: (patch, width, depth, heads); pretrained sources: `zoo.registry.DEFAULT_WEIGHTS`.
VARIANTS = {"clip_base16": (16, 768, 12, 12), "clip_large14": (14, 1024, 24, 16)}
OPENAI = {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711]}


def build(config: dict, image_shape):
    """keras-hub `CLIPVisionEncoder`: `(batch, S, S, 3)` -> `(batch, 1 + patches, width)`.

    keras-hub 0.32's `CLIPVisionEmbedding.build` leaves `position_ids` at zeros (its presets
    carry the values in their weights file), so every token would get position 0: set here.
    """
    encoder = hub.keras_hub().models.CLIPVisionEncoder(
        patch_size=config["patch_size"], hidden_dim=config["width"], num_layers=config["depth"],
        num_heads=config["heads"], intermediate_dim=config["mlp"],
        intermediate_activation=config.get("activation", "quick_gelu"),
        image_shape=tuple(int(s) for s in image_shape))
    ids = encoder.embedding.position_ids
    ids.assign(np.arange(ids.shape[1]).reshape(ids.shape).astype(str(ids.dtype).split(".")[-1]))
    return encoder


def config_from_transformers(cfg: dict) -> dict:
    """The zoo config of a transformers `CLIPConfig` (its `vision_config`) or `CLIPVisionConfig`."""
    v = cfg.get("vision_config", cfg)
    size = int(v.get("image_size", 224))
    return {"patch_size": int(v["patch_size"]), "width": int(v["hidden_size"]),
            "depth": int(v["num_hidden_layers"]), "heads": int(v["num_attention_heads"]),
            "mlp": int(v["intermediate_size"]), "activation": v.get("hidden_act", "quick_gelu"),
            "image_shape": (size, size, 3)}


def port(encoder, state: dict, config: dict) -> None:
    """Assign a transformers CLIP state dict (`vision_model.*` keys, or none) to `build`'s encoder."""
    width, heads = config["width"], config["heads"]
    state = hub.vision_state(state)
    table = {
        "embeddings.class_embedding": ("embedding/class_embedding", None),
        "embeddings.patch_embedding.weight": (
            "embedding/patch_embedding/kernel", lambda x: np.transpose(x, (2, 3, 1, 0))),
        "embeddings.position_embedding.weight": ("embedding/position_embedding/embeddings", None),
        **hub.norm("pre_layrnorm", "pre_layer_norm"),
        **hub.norm("post_layernorm", "layer_norm"),
        **hub.clip_style_blocks(config["depth"], heads, width, dict(
            layer_norm1="layer_norm_1", layer_norm2="layer_norm_2", attention="attention",
            fc1="dense_1", fc2="dense_2")),
    }
    hub.assign(encoder, state, table, "CLIP checkpoint")


def from_keras_hub(backbone):
    """(vision encoder, config) of a keras-hub `CLIPBackbone` preset."""
    enc = backbone.vision_encoder
    config = {"patch_size": enc.patch_size, "width": enc.hidden_dim, "depth": enc.num_layers,
              "heads": enc.num_heads, "mlp": enc.intermediate_dim,
              "activation": enc.intermediate_activation, "image_shape": tuple(enc.image_shape)}
    return enc, config


FAMILY = hub.HubFamily("clip", ("clip", "clip_vision_model"), build, config_from_transformers, port,
                       from_keras_hub)

for _name, (_patch, _width, _depth, _heads) in VARIANTS.items():
    register_hub(_name, FAMILY, dict(patch_size=_patch, width=_width, depth=_depth, heads=_heads,
                                     mlp=4 * _width),
                 preprocessing=OPENAI, default_recipe="vit",
                 layer_depth=layer_depth)
