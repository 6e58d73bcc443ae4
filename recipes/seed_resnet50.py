"""The university group's setting (slides): ImageNet ResNet50 fine-tuned at 128x128 with
Adam 1e-5, batch 16, 50 epochs, ReduceLROnPlateau, random flip + rotation.

Adam at 1e-5 only makes sense for fine-tuning pretrained weights, so this recipe starts
from ImageNet (`weights="imagenet"`, downloaded once into ~/.keras; offline pass
`--weights FILE` or `--weights none`).
"""

from recipes import Recipe

RECIPE = Recipe(
    model="resnet50",
    image_size=128,
    batch_size=16,
    epochs=50,
    optimizer="adam",
    lr=1e-5,
    schedule="plateau",
    augment="basic",
    weights="imagenet",
)
