"""What `make train` runs on the embedded synthetic dataset: small images and few
epochs so ResNet50 trains on a 2-core CPU in minutes."""

from recipes import Recipe

RECIPE = Recipe(
    model="resnet50",
    image_size=64,
    batch_size=32,
    epochs=12,
    optimizer="adamw",
    lr=1e-3,
    weight_decay=1e-4,
    schedule="cosine",
    warmup_epochs=1,
    bn_momentum=0.9,
    augment="basic",
)
