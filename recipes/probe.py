"""Linear probe on a frozen pretrained backbone (default DINOv2 ViT-S/14, any `--model`).

Features are computed once per image at 224 px (no augmentation) and cached under
`DATA/.cache/` keyed like the pixel cache (rows, size, the backbone's weights); only the
heads train on them, so 80k WikiArt images cost one feature pass and then minutes of head
training. Protocol as DINOv2's linear evaluation (Oquab et al., 2023) and the frozen-
feature art studies (Tonkes & Sabatelli 2022: ViT features transfer best to art): AdamW
1e-3, cosine, 30 epochs over the features, no label smoothing. `zoo evaluate --knn 20`
gives the k-NN classifier on the same features (no training at all).
"""

from recipes import Recipe

RECIPE = Recipe(
    model="dinov2_small14",
    image_size=224,
    batch_size=64,
    epochs=30,
    optimizer="adamw",
    lr=1e-3,
    weight_decay=1e-4,
    schedule="cosine",
    warmup_epochs=1,
    dropout=0.0,
    augment="none",
    weights="pretrained",
    probe=True,
)
