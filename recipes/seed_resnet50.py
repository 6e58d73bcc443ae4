"""The university group's setting (slides): ResNet50, 128x128, Adam 1e-5, batch 16,
50 epochs, ReduceLROnPlateau, random flip + rotation."""

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
)
