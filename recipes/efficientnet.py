"""Default for EfficientNet B0-B7 and V2: AdamW, warmup + cosine, RandAugment.

BatchNorm momentum "auto" (from steps per epoch, see recipes/resnet.py) so small sets work."""

from recipes import Recipe

RECIPE = Recipe(
    model="efficientnet_b0",
    image_size=128,
    batch_size=32,
    epochs=40,
    optimizer="adamw",
    lr=1e-3,
    weight_decay=0.05,
    schedule="cosine",
    warmup_epochs=2,
    label_smoothing=0.1,
    bn_momentum="auto",
    augment="randaugment",
)
