"""SigLIP (Zhai et al., 2023) vision tower, as keras-hub's `SigLIPVisionEncoder`.

Image-text pretraining with a sigmoid loss on WebLI; at equal size it beats CLIP on most
linear-probe benchmarks, which is why it is here beside CLIP. Name: `siglip_base16`
(ViT-B/16, 768 wide, 12 blocks, 224 px). Features: the attention-pooling head's output,
`(batch, width)`, transformers' `SiglipVisionModel.pooler_output`. Pixels: mean = std = 0.5.

Weights (`zoo.models.hub`): `"pretrained"`/`"imagenet"` = `hf://google/siglip-base-patch16-224`,
a keras-hub preset (`siglip_base_patch16_224`: its vision encoder), another `hf://` handle or
a local folder. keras-hub has no transformers converter for `siglip`; `port` maps the keys
(`vision_model.*`, the pooling head's packed `in_proj` split into query/key/value).

Layer depth (layer decay): `embedding/*` -> 0; `encoder_block_N/*` -> N + 1; `post_layer_norm`,
the pooling `head` and the task heads -> blocks + 1.
"""

import numpy as np

from zoo.models import hub
from zoo.models.blocks import ordered_blocks
from zoo.models.hub_family import register_hub

layer_depth = ordered_blocks(r"^encoder_block_(\d+)/", r"^embedding/")
SOURCE = "hf://google/siglip-base-patch16-224"


def build(config: dict, image_shape):
    """keras-hub `SigLIPVisionEncoder`: `(batch, S, S, 3)` -> pooled `(batch, width)`."""
    return hub.keras_hub().models.SigLIPVisionEncoder(
        patch_size=config["patch_size"], hidden_dim=config["width"], num_layers=config["depth"],
        num_heads=config["heads"], intermediate_dim=config["mlp"],
        intermediate_activation=config.get("activation", "gelu_approximate"),
        layer_norm_epsilon=config.get("eps", 1e-6), image_shape=tuple(int(s) for s in image_shape))


_ACTIVATIONS = {"gelu_pytorch_tanh": "gelu_approximate", "gelu": "gelu"}


def config_from_transformers(cfg: dict) -> dict:
    """The zoo config of a transformers `SiglipConfig` (its `vision_config`) or `SiglipVisionConfig`."""
    v = cfg.get("vision_config", cfg)
    size = int(v.get("image_size", 224))
    act = v.get("hidden_act", "gelu_pytorch_tanh")
    if act not in _ACTIVATIONS:
        raise ValueError(f"SigLIP checkpoint: activation {act!r} not supported")
    return {"patch_size": int(v["patch_size"]), "width": int(v["hidden_size"]),
            "depth": int(v["num_hidden_layers"]), "heads": int(v["num_attention_heads"]),
            "mlp": int(v["intermediate_size"]), "activation": _ACTIVATIONS[act],
            "eps": float(v.get("layer_norm_eps", 1e-6)), "image_shape": (size, size, 3)}


def port(encoder, state: dict, config: dict) -> None:
    """Assign a transformers SigLIP state dict (`vision_model.*` keys, or none) to `build`'s encoder."""
    width, heads = config["width"], config["heads"]
    state = hub.vision_state(state)
    packed_w, packed_b = state.get("head.attention.in_proj_weight"), state.get("head.attention.in_proj_bias")
    for i, part in enumerate(("q", "k", "v")):  # torch nn.MultiheadAttention packs q, k, v
        if packed_w is not None and packed_b is not None:
            state[f"head.attention.{part}.weight"] = packed_w[i * width:(i + 1) * width]
            state[f"head.attention.{part}.bias"] = packed_b[i * width:(i + 1) * width]
    state.pop("head.attention.in_proj_weight", None)
    state.pop("head.attention.in_proj_bias", None)
    h = "head"
    table = {
        "embeddings.patch_embedding.weight": (
            "embedding/patch_embedding/kernel", lambda x: np.transpose(x, (2, 3, 1, 0))),
        "embeddings.patch_embedding.bias": ("embedding/patch_embedding/bias", None),
        "embeddings.position_embedding.weight": ("embedding/position_embedding/embeddings", None),
        **hub.norm("post_layernorm", "post_layer_norm"),
        f"{h}.probe": ("head/variable", None),
        **hub.attention({"query": f"{h}.attention.q", "key": f"{h}.attention.k", "value": f"{h}.attention.v",
                         "attention_output": f"{h}.attention.out_proj"}, "head/attention", heads, width),
        **hub.norm(f"{h}.layernorm", "head/layernorm"),
        **hub.dense(f"{h}.mlp.fc1", "head/mlp/fc1"), **hub.dense(f"{h}.mlp.fc2", "head/mlp/fc2"),
        **hub.clip_style_blocks(config["depth"], heads, width, dict(
            layer_norm1="layer_norm1", layer_norm2="layer_norm2", attention="self_attn",
            fc1="mlp/fc1", fc2="mlp/fc2")),
    }
    hub.assign(encoder, state, table, "SigLIP checkpoint")


def from_keras_hub(backbone):
    """(vision encoder, config) of a keras-hub `SigLIPBackbone` preset."""
    enc = backbone.vision_encoder
    config = {"patch_size": enc.patch_size, "width": enc.hidden_dim, "depth": enc.num_layers,
              "heads": enc.num_heads, "mlp": enc.intermediate_dim,
              "activation": enc.intermediate_activation, "eps": enc.layer_norm_epsilon,
              "image_shape": tuple(enc.image_shape)}
    return enc, config


FAMILY = hub.HubFamily("siglip", ("siglip", "siglip_vision_model"), build, config_from_transformers, port,
                       from_keras_hub, class_tokens=0, pooled=True)

register_hub("siglip_base16", FAMILY, dict(patch_size=16, width=768, depth=12, heads=12, mlp=3072),
             preprocessing="tf", default_recipe="vit",
             layer_depth=layer_depth)
