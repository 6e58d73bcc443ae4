"""Fine-tune a pretrained ViT (timm's ImageNet-21k by default, or `--weights model.safetensors`) with
layer-wise learning-rate decay, as BEiT (Bao et al., ICLR 2022) and MAE (He et al., CVPR
2022) fine-tune: AdamW, weight decay 0.05, warm-up + cosine, label smoothing 0.1,
RandAugment + MixUp, layer decay 0.65 (ViT-B; MAE uses 0.75 for larger models), learning
rate base 5e-4 x batch / 256 (MAE) -> about 1e-4 at batch 32. No frozen phase: the papers
warm the new head up with the learning-rate warm-up. BEiT fine-tuned on WikiArt reaches
84.9 % artist top-1 (ArtGAN split, 2025).

`weights="imagenet"` means the model's pretrained source: timm's ImageNet-21k checkpoint
`hf://timm/vit_small_patch16_224.augreg_in21k` (downloaded once; offline one error line before
any data is read); `--weights FILE` takes a local timm checkpoint.
"""

from recipes import Recipe

RECIPE = Recipe(
    model="vit_small16",
    image_size=224,
    batch_size=32,
    epochs=30,
    optimizer="adamw",
    lr=1e-4,
    weight_decay=0.05,
    schedule="cosine",
    warmup_epochs=3,
    label_smoothing=0.1,
    dropout=0.1,
    augment="randaugment",
    mix="mixup",
    weights="imagenet",
    layer_decay=0.65,
)
