"""Fine-tune DINOv2 (`--model dinov2_small14`, `_base14`, `_large14`, `dinov2_reg_*`) at 224 px.

The DINOv2 paper (Oquab et al., 2023) fine-tunes and probes at 224 px from its 518-px
checkpoints (the position table resampled); the recipe follows BEiT/MAE fine-tuning as
for ViT (Bao et al., ICLR 2022; He et al., CVPR 2022): AdamW, weight decay 0.05, layer
decay 0.75 (DINOv2-style ViT-S/B; 0.65 for smaller sets), warm-up + cosine, label
smoothing 0.1, RandAugment, a head-only warm-up epoch (`freeze_epochs=1`, so the new head
does not tear the features apart), and an EMA of the weights (0.999; the best and exported
model use it). Evaluate with `--tta flip`. Frozen DINO-family features already beat
supervised ones on art (Tonkes & Sabatelli 2022): try `--recipe probe` first.
Published WikiArt (ArtGAN split) numbers: artist 84.9 % (BEiT, 2025), style 72.6 %
(Swin), genre 79.5 %; see the README's table for the protocol.
"""

from recipes import Recipe

RECIPE = Recipe(
    model="dinov2_small14",
    image_size=224,
    batch_size=32,
    epochs=15,
    optimizer="adamw",
    lr=1e-4,
    weight_decay=0.05,
    schedule="cosine",
    warmup_epochs=2,
    label_smoothing=0.1,
    dropout=0.1,
    augment="randaugment",
    weights="pretrained",
    freeze_epochs=1,
    layer_decay=0.75,
    ema=0.999,
)
