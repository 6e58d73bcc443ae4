"""Backbone families; importing this package registers every model name.

Each family file registers its names with what the zoo knows about them (registry
`BackboneSpec`): builder, pixel normalisation, keras.applications constructor,
default recipe and layer-depth rule.
"""

from zoo import registry
from zoo.models import (  # noqa: F401  (registration side effects)
    clip,
    convnext,
    dinov2,
    efficientnet,
    resnet,
    siglip,
    vit,
)


def layer_depth(model) -> dict[str, int]:
    """`variable.path -> depth` for every variable of `model`, a `zoo.build` model or a
    `zoo.backbone` (heads get the top depth), by its family's rule (`BackboneSpec.layer_depth`).

    Raises ValueError for a model that is not the zoo's, or a family without a rule.
    """
    backbone = getattr(model, "backbone", model)
    name = str(getattr(backbone, "name", "")).removesuffix("_backbone")
    spec = registry.get(name) if name in registry.list_models() else None
    if spec is None or spec.layer_depth is None:
        raise ValueError(
            f"{model.name}: no layer order known (layer depths come from a registered family's rule: "
            "ViT, DINOv2, CLIP, SigLIP, ConvNeXt, ResNet, EfficientNet)")
    return spec.layer_depth([v.path for v in model.weights])
