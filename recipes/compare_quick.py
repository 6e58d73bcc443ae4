"""`python -m zoo compare` default budget: every model x backend x seed with this one recipe on the
hard synthetic set (`synth --difficulty hard`: 480 train / 60 val / 60 test images).

Sized for a 2-core CPU: a cell's cost is mostly process start-up and XLA/graph
compilation, not the epochs, so 32 px and one epoch. Batch 20 divides the splits
evenly, so no ragged last batch recompiles and the timed batches are all alike.
No validation pass: with one epoch there is no best epoch to pick, and the pass would
only compile a test step (4-12 s a JAX/TensorFlow cell); the leaderboard scores the
test split. Precision: the Recipe default `auto` (mixed bf16 only where the hardware
has bf16 units).
"""

from recipes import Recipe

RECIPE = Recipe(
    model="resnet50",
    image_size=32,
    batch_size=20,
    epochs=1,
    optimizer="adamw",
    lr=1e-3,
    weight_decay=1e-4,
    schedule="cosine",
    bn_momentum=0.9,
    augment="none",
    validate=False,
)
