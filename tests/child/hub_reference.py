"""Reference side of tests/test_hub_backbones.py: random-weight transformers checkpoints.

`save` builds small but real-architecture transformers vision models (DINOv2 ViT-S/14 at
518 px, CLIP ViT-B/16 and SigLIP ViT-B/16 at 224 px; 2 blocks each), saves them with
`save_pretrained` into `root`, and writes each one's `pooler_output` for fixed images
(float32 `(2, S, S, 3)` pixels 0-255) to `root/<case>.npz`. Nothing is downloaded.
"""

import json
from pathlib import Path

import numpy as np

IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
HALF = ([0.5] * 3, [0.5] * 3)

# case: (zoo name, transformers model, checkpoint side, compared side, mean/std)
CASES = {
    "dinov2_native": ("dinov2_small14", "dinov2", 518, 518, IMAGENET),
    "dinov2_224": ("dinov2_small14", "dinov2", 518, 224, IMAGENET),
    "clip": ("clip_base16", "clip", 224, 224, IMAGENET),
    "siglip": ("siglip_base16", "siglip", 224, 224, HALF),
}


def _model(kind: str, side: int):
    import transformers as t

    if kind == "dinov2":
        return t.Dinov2Model(t.Dinov2Config(hidden_size=384, num_attention_heads=6, num_hidden_layers=2,
                                            image_size=side, patch_size=14))
    if kind == "clip":
        return t.CLIPVisionModel(t.CLIPVisionConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                                                    num_hidden_layers=2, image_size=side, patch_size=16))
    return t.SiglipVisionModel(t.SiglipVisionConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                                                    num_hidden_layers=2, image_size=side, patch_size=16))


def save(root: str, cases: list[str]) -> dict:
    """Checkpoints in `root/<kind>/` and `root/<case>.npz` (images, pooler_output)."""
    import torch

    torch.manual_seed(0)
    root = Path(root)
    made = {}
    for case in cases:
        name, kind, side, size, (mean, std) = CASES[case]
        folder = root / kind
        if kind not in made:
            made[kind] = _model(kind, side).eval()
            made[kind].save_pretrained(folder)
            (folder / "preprocessor_config.json").write_text(json.dumps({"image_mean": mean, "image_std": std}))
        images = np.random.default_rng(1).uniform(0, 255, (2, size, size, 3)).astype(np.float32)
        x = (images / 255.0 - np.float32(mean)) / np.float32(std)
        pixels = torch.tensor(x.transpose(0, 3, 1, 2), dtype=torch.float32)
        with torch.no_grad():
            ref = made[kind](pixel_values=pixels, interpolate_pos_encoding=size != side).pooler_output
        np.savez(root / f"{case}.npz", images=images, pooled=ref.numpy())
    return {"saved": cases}
