"""Default for ConvNeXt T/S/B/L from random init: AdamW, warmup + cosine, RandAugment,
label smoothing (Liu et al., "A ConvNet for the 2020s", CVPR 2022, table 5: AdamW, weight
decay 0.05, cosine, label smoothing 0.1; their lr 4e-3 at batch 4096, here 5e-4 at batch 32,
the ViT default's). LayerNorm only, so no BatchNorm momentum to tune. With ImageNet
weights (online), `finetune_convnext` is the stronger start.
"""

from recipes import Recipe

RECIPE = Recipe(
    model="convnext_tiny",
    image_size=128,
    batch_size=32,
    epochs=40,
    optimizer="adamw",
    lr=5e-4,
    weight_decay=0.05,
    schedule="cosine",
    warmup_epochs=2,
    label_smoothing=0.1,
    augment="randaugment",
)
