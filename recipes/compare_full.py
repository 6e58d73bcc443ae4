"""`python -m zoo compare --budget full`: the same comparison (models, backends, seeds, shared
initial weights, the hard set) at the zoo's usual 128 px and enough epochs for the accuracies
to separate the models. Sized for a GPU (or a long night): on a 2-core CPU one ResNet152 cell
alone takes hours."""

from recipes import Recipe

RECIPE = Recipe(
    model="resnet50",
    image_size=128,
    batch_size=32,
    epochs=15,
    optimizer="adamw",
    lr=1e-3,
    weight_decay=1e-4,
    schedule="cosine",
    warmup_epochs=1,
    label_smoothing=0.1,
    bn_momentum=0.9,
    augment="basic",
)
