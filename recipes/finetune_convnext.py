"""Fine-tune an ImageNet ConvNeXt-T/S/B/L with layer-wise learning-rate decay.

After the ConvNeXt paper's fine-tuning settings (Liu et al., "A ConvNet for the 2020s",
CVPR 2022, appendix A): AdamW, weight decay, cosine schedule, label smoothing 0.1,
RandAugment, layer-wise decay 0.7-0.8 over 12 layer groups (stage 3's blocks in groups of 3,
as their code does). Their lr 5e-5 at batch 512 is for ImageNet-22k -> 1k with trained
heads; new artist heads need more, so 1e-4 at batch 32 with a frozen first epoch
(Kumar et al., ICLR 2022: linear probing, then fine-tuning). Compare with WikiArt artist
top-1 76.1 % (2016) .. 84.9 % (BEiT, 2025).
"""

from recipes import Recipe

RECIPE = Recipe(
    model="convnext_tiny",
    image_size=224,
    batch_size=32,
    epochs=30,
    optimizer="adamw",
    lr=1e-4,
    weight_decay=0.05,
    schedule="cosine",
    warmup_epochs=2,
    label_smoothing=0.1,
    augment="randaugment",
    weights="imagenet",
    freeze_epochs=1,
    layer_decay=0.7,
)
