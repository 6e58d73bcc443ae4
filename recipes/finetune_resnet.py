"""Fine-tune an ImageNet ResNet50 on paintings: a head-only epoch, then the whole network.

Settings after Kornblith, Shlens & Le, "Do Better ImageNet Models Transfer Better?" (CVPR 2019):
fine-tuning the whole network beats fixed features on every fine-grained set; SGD with
Nesterov momentum 0.9, label smoothing, learning rate ~0.1 per 256 images (here 0.01 at
batch 32) with a cosine decay. The frozen first epoch trains the new heads before the
backbone moves (linear probing, then fine-tuning: Kumar et al., ICLR 2022). At 224 px as
in ImageNet pretraining; `--image-size 128` is the slides' cheaper setting.
Reference numbers on WikiArt artists (ArtGAN split, 23 artists): 76.1 % (Tan et al. 2016,
fine-tuned CNN) up to 84.9 % (BEiT, 2025).
"""

from recipes import Recipe

RECIPE = Recipe(
    model="resnet50",
    image_size=224,
    batch_size=32,
    epochs=30,
    optimizer="sgd",
    lr=0.01,
    schedule="cosine",
    warmup_epochs=1,
    label_smoothing=0.1,
    bn_momentum="auto",
    augment="basic",
    weights="imagenet",
    freeze_epochs=1,
)
