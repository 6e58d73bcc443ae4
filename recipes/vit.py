"""Default for ViT Ti/S/B: AdamW, warmup + cosine, RandAugment + MixUp, label smoothing
(ViTs need strong regularisation on small data)."""

from recipes import Recipe

RECIPE = Recipe(
    model="vit_small16",
    image_size=128,
    batch_size=32,
    epochs=60,
    optimizer="adamw",
    lr=5e-4,
    weight_decay=0.05,
    schedule="cosine",
    warmup_epochs=5,
    label_smoothing=0.1,
    dropout=0.1,
    augment="randaugment",
    mix="mixup",
)
