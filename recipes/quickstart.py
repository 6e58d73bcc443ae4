"""What `make train` runs on the embedded synthetic dataset: 32x32 images and 12 epochs, so
ResNet50 trains on a 2-core CPU in about 5 minutes (JAX: 64 px took 16 min here).

Measured on the idle 2-core machine: 4 min 44 s wall, test artist top-1 1.000 (val top-1
1.0 from epoch 5 on). BN momentum 0.9: with Keras' 0.99 the moving statistics lag far
behind 15 steps an epoch and validation numbers are garbage for several epochs."""

from recipes import Recipe

RECIPE = Recipe(
    model="resnet50",
    image_size=32,
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
