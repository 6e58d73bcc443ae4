"""Fine-tune a CLIP or SigLIP vision tower (`--model clip_base16`, `clip_large14`, `siglip_base16`).

CLIP features are easily destroyed by a plain fine-tune; FT-CLIP (Dong et al., 2022, "CLIP
itself is a strong fine-tuner") reaches ImageNet SOTA with a low learning rate, strong
layer decay (0.6 for ViT-B/16), weight decay 0.05, warm-up, and an EMA of the weights;
here also a head-only warm-up epoch (the probe-then-fine-tune of LP-FT, Kumar et al., ICLR
2022, which keeps the pretrained features from being distorted by a random head).
224 px, AdamW 3e-5 at batch 32, label smoothing 0.1, RandAugment. Evaluate with
`--tta flip`. Published WikiArt (ArtGAN split) numbers: the README's table.
"""

from recipes import Recipe

RECIPE = Recipe(
    model="clip_base16",
    image_size=224,
    batch_size=32,
    epochs=10,
    optimizer="adamw",
    lr=3e-5,
    weight_decay=0.05,
    schedule="cosine",
    warmup_epochs=1,
    label_smoothing=0.1,
    dropout=0.1,
    augment="randaugment",
    weights="pretrained",
    freeze_epochs=1,
    layer_decay=0.6,
    ema=0.999,
)
