"""Default for ResNet50/101/152: Adam with ReduceLROnPlateau, flip + rotation, mild label smoothing.

Random init (works offline); `finetune_resnet` starts from ImageNet. BatchNorm momentum
"auto" follows the steps per epoch (0.9 below 20 steps, up to Keras' 0.99 from 200):
with 0.99 a 160-image set (10 steps an epoch) had garbage inference statistics for
many epochs (test top-1 0.40 after 8 epochs, where quickstart's 0.9 reached 1.00).
"""

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
    bn_momentum="auto",
    augment="basic",
)
