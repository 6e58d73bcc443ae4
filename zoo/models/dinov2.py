"""DINOv2 (Oquab et al., 2023), self-supervised ViT/14, as keras-hub's `DINOV2Backbone`.

Frozen DINO-family features beat supervised backbones for art classification and
retrieval; DINOv2 is the strongest widely available one. Names: `dinov2_small14` (384
wide, 12 blocks), `dinov2_base14` (768, 12), `dinov2_large14` (1024, 24), the
register variants `dinov2_reg_{small,base,large}14` (Darcet et al., 2024: 4 register
tokens, cleaner attention maps), and `dinov2_tiny14` (192 wide, 12 blocks: the same
architecture at ViT-Ti size, which DINOv2 never published; for `transfer-check` on a CPU). Features: the class token after the final LayerNorm,
`(batch, width)`, transformers' `pooler_output`. Pixels: ImageNet mean/std (inside the model).

Weights (`zoo.models.hub`): `"pretrained"`/`"imagenet"` = `hf://facebook/dinov2-{size}`
(`-with-registers-` for reg), a keras-hub preset (`dinov2_small`), another `hf://` handle
or a local folder. A transformers checkpoint is ported here (`port`): keys
`embeddings.*`, `encoder.layer.N.*`, `layernorm.*` -> keras-hub variables. The position
table is resampled to the input size as transformers does (518-px checkpoints at 224 px).

Layer depth (layer decay, BEiT `get_layer_id_for_vit`): `embeddings/*` -> 0;
`encoder/layers_N/*` -> N + 1; `layernorm` and the heads -> blocks + 1.
"""

import numpy as np

from zoo.models import hub
from zoo.models.blocks import ordered_blocks
from zoo.models.hub_family import register_hub

PATCH = 14
layer_depth = ordered_blocks(r"^encoder/layers_(\d+)/", r"^embeddings/")

# name: (width, depth, heads, registers); pretrained sources: `zoo.registry.DEFAULT_WEIGHTS`.
VARIANTS = {
    "dinov2_tiny14": (192, 12, 3, 0),  # DINOv2-shaped ViT-Ti/14, no published weights: CPU checks
    "dinov2_small14": (384, 12, 6, 0),
    "dinov2_base14": (768, 12, 12, 0),
    "dinov2_large14": (1024, 24, 16, 0),
    "dinov2_reg_small14": (384, 12, 6, 4),
    "dinov2_reg_base14": (768, 12, 12, 4),
    "dinov2_reg_large14": (1024, 24, 16, 4),
}


def build(config: dict, image_shape):
    """keras-hub `DINOV2Backbone` at `image_shape`, its position table sized for it (no
    keras-hub interpolation): `(batch, H, W, 3)` -> `(batch, 1 + registers + patches, width)`."""
    shape = tuple(int(s) for s in image_shape)
    encoder = hub.keras_hub().models.DINOV2Backbone(
        patch_size=config["patch_size"], num_layers=config["depth"], hidden_dim=config["width"],
        num_heads=config["heads"], intermediate_dim=config["mlp"],
        layer_scale_init_value=config.get("layer_scale", 1.0),
        num_register_tokens=config.get("registers", 0), use_swiglu_ffn=config.get("swiglu", False),
        image_shape=shape, position_embedding_shape=shape[:2])
    encoder.embeddings.mask_token.trainable = False  # masked-image pretraining only: no gradient here
    return encoder


def config_from_transformers(cfg: dict) -> dict:
    """The zoo config of a transformers `Dinov2Config` / `Dinov2WithRegistersConfig` dict."""
    size = int(cfg.get("image_size", 518))
    return {
        "patch_size": int(cfg["patch_size"]), "depth": int(cfg["num_hidden_layers"]),
        "width": int(cfg["hidden_size"]), "heads": int(cfg["num_attention_heads"]),
        "mlp": int(cfg["hidden_size"] * cfg.get("mlp_ratio", 4)),
        "layer_scale": float(cfg.get("layerscale_value", 1.0)),
        "registers": int(cfg.get("num_register_tokens", 0)), "swiglu": bool(cfg.get("use_swiglu_ffn")),
        "image_shape": (size, size, 3),
        "antialias": cfg["model_type"] == "dinov2_with_registers",
    }


def port(encoder, state: dict, config: dict) -> None:
    """Assign a transformers DINOv2 state dict (`Dinov2Model` keys) to `build`'s encoder."""
    width, heads = config["width"], config["heads"]
    if config.get("swiglu"):
        raise ValueError("DINOv2 with SwiGLU (giant) is not supported; use small, base or large")
    state = {k.removeprefix("dinov2."): v for k, v in state.items()}
    table = {
        "embeddings.cls_token": ("embeddings/cls_token", None),
        "embeddings.mask_token": ("embeddings/mask_token", lambda x: x.reshape(1, -1)),
        "embeddings.position_embeddings": ("embeddings/position_embeddings", None),
        "embeddings.patch_embeddings.projection.weight": (
            "embeddings/patch_embeddings/projection/kernel", lambda x: np.transpose(x, (2, 3, 1, 0))),
        "embeddings.patch_embeddings.projection.bias": ("embeddings/patch_embeddings/projection/bias", None),
        **hub.norm("layernorm", "layernorm"),
    }
    if config.get("registers"):
        table["embeddings.register_tokens"] = ("embeddings/register_tokens", None)
    for i in range(config["depth"]):
        t, k = f"encoder.layer.{i}", f"encoder/layers_{i}"
        a = f"{t}.attention.attention"
        table.update({
            **hub.norm(f"{t}.norm1", f"{k}/norm1"), **hub.norm(f"{t}.norm2", f"{k}/norm2"),
            **hub.attention({"query": f"{a}.query", "key": f"{a}.key", "value": f"{a}.value",
                             "attention_output": f"{t}.attention.output.dense"},
                            f"{k}/attention/attention", heads, width),
            f"{t}.layer_scale1.lambda1": (f"{k}/layer_scale1/lambda1", None),
            f"{t}.layer_scale2.lambda1": (f"{k}/layer_scale2/lambda1", None),
            **hub.dense(f"{t}.mlp.fc1", f"{k}/mlp/fc1"), **hub.dense(f"{t}.mlp.fc2", f"{k}/mlp/fc2"),
        })
    # keras-hub resamples `position_embeddings` into the table it uses; at one size both are one.
    table["embeddings.position_embeddings#used"] = ("embeddings/interpolated_position_embeddings", None)
    state = {**state, "embeddings.position_embeddings#used": state.get("embeddings.position_embeddings")}
    hub.assign(encoder, state, table, "DINOv2 checkpoint")


def from_keras_hub(backbone):
    """(encoder, config) from a keras-hub `DINOV2Backbone` preset, rebuilt at the size of its
    position table so that the used table is the checkpoint's (not keras-hub's resampled one)."""
    size = tuple(backbone.position_embedding_shape[:2])
    config = {"patch_size": backbone.patch_size, "depth": backbone.num_layers, "width": backbone.hidden_dim,
              "heads": backbone.num_heads, "mlp": backbone.intermediate_dim,
              "layer_scale": backbone.layer_scale_init_value, "registers": backbone.num_register_tokens,
              "swiglu": backbone.use_swiglu_ffn, "image_shape": (*size, 3),
              "antialias": backbone.antialias_in_interpolation}
    native = build(config, config["image_shape"])
    table = backbone.embeddings.position_embeddings
    for a, b in zip(backbone.weights, native.weights, strict=True):
        b.assign(table if b.path.endswith("interpolated_position_embeddings") else a)
    return native, config


FAMILY = hub.HubFamily("dinov2", ("dinov2", "dinov2_with_registers"), build, config_from_transformers,
                       port, from_keras_hub)

for _name, (_width, _depth, _heads, _registers) in VARIANTS.items():
    register_hub(_name, FAMILY, dict(patch_size=PATCH, depth=_depth, width=_width, heads=_heads,
                                     mlp=4 * _width, registers=_registers),
                 preprocessing="torch", default_recipe="vit",
                 layer_depth=layer_depth)
