"""Default for ResNet50/101/152: Adam with ReduceLROnPlateau, flip + rotation, mild label smoothing."""

from recipes import Recipe

RECIPE = Recipe(
    model="resnet50",
    image_size=128,
    batch_size=16,
    epochs=30,
    optimizer="adam",
    lr=3e-4,
    schedule="plateau",
    label_smoothing=0.1,
    augment="basic",
)
