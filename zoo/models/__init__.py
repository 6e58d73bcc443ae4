"""Backbone families; importing this package registers every model name."""

from zoo.models import convnext, efficientnet, resnet, vit  # noqa: F401  (registration side effects)
from zoo.models.depth import layer_depth

__all__ = ["layer_depth"]
