"""Native PyTorch ResNet50 with the zoo's multi-task head: `make bench`'s reference line.

Backend edge: this module imports torch on purpose. It measures what plain PyTorch
eager reaches on the same layout as `keras.applications.ResNet50` (the original v1:
stride on the first 1x1 conv, convolutions with biases, BatchNorm eps 1.001e-5),
so the zoo's torch numbers have a yardstick. torchvision would give the model in
one line but cannot be imported here (its wheels are CUDA builds), so the layout is
written out below; `backbone_param_count()` equals Keras' count without the top
(23,587,712, BatchNorm moving statistics included, as `count_params` counts them).
"""

# backend-edge: plain PyTorch is what this reference line measures
import torch
from torch import nn  # backend-edge: the reference model's layers

from data_tools.labels import DEFAULT_SCALING

# (filters, blocks, first stride) of ResNet50's four stages.
STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))
BN_EPS = 1.001e-5  # keras.applications' BatchNormalization epsilon


def _conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, bias=True),
            nn.BatchNorm2d(c_out, eps=BN_EPS)]


class Bottleneck(nn.Module):
    """1x1 (stride) -> 3x3 -> 1x1 (4x filters), projection shortcut in a stage's first block."""

    def __init__(self, c_in: int, filters: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(*_conv_bn(c_in, filters, 1, stride), nn.ReLU(inplace=True),
                                  *_conv_bn(filters, filters, 3), nn.ReLU(inplace=True),
                                  *_conv_bn(filters, 4 * filters, 1))
        project = stride != 1 or c_in != 4 * filters
        self.shortcut = nn.Sequential(*_conv_bn(c_in, 4 * filters, 1, stride)) if project else nn.Identity()

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


class ResNet50(nn.Module):
    """`(batch, 3, H, W)` float pixels -> dict of head outputs: artist/movement logits, year."""

    def __init__(self, tasks: dict):
        super().__init__()
        layers = [*_conv_bn(3, 64, 7, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, padding=1)]
        c_in = 64
        for filters, blocks, stride in STAGES:
            for i in range(blocks):
                layers.append(Bottleneck(c_in, filters, stride if i == 0 else 1))
                c_in = 4 * filters
        self.backbone = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.heads = nn.ModuleDict({name: nn.Linear(c_in, 1 if kind == "regression" else kind)
                                    for name, kind in tasks.items()})

    def forward(self, x):
        features = self.backbone(x)
        return {name: head(features) for name, head in self.heads.items()}


def backbone_param_count(model: ResNet50) -> int:
    """Parameters + BatchNorm running statistics of the backbone (Keras' count_params)."""
    stats = sum(b.numel() for name, b in model.backbone.named_buffers() if "running" in name)
    return sum(p.numel() for p in model.backbone.parameters()) + stats


def loss_fn(outputs: dict, targets: dict, tasks: dict) -> torch.Tensor:
    """The zoo's losses: cross-entropy per class head, Huber on the standardised year;
    weights 1 (artist), 0.5 (others), as the default recipe."""
    total = 0.0
    for name, kind in tasks.items():
        weight = 1.0 if name == "artist" else 0.5
        if kind == "regression":
            center, scale = DEFAULT_SCALING[name]
            loss = nn.functional.huber_loss(outputs[name] / scale, (targets[name] - center) / scale)
        else:
            loss = nn.functional.cross_entropy(outputs[name], targets[name].argmax(-1))
        total = total + weight * loss
    return total
