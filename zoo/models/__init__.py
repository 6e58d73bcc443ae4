"""Backbone families; importing this package registers every model name."""

from zoo.models import efficientnet, resnet, vit  # noqa: F401  (registration side effects)
