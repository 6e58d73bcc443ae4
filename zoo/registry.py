"""One registry of backbones, filled by the `@register` decorator in each family file.

Like timm's `register_model`: a family file decorates one small builder per
model name; `list_models()` and `get()` read the table.
"""

import difflib
from collections.abc import Callable
from dataclasses import dataclass

import keras


@dataclass(frozen=True)
class BackboneSpec:
    """What the zoo knows about one backbone name.

    Attributes:
        name: registry name, e.g. "resnet50".
        family: "resnet", "efficientnet", "efficientnetv2", "convnext" or "vit".
        fn: builder `fn(input_shape, weights) -> keras.Model`, raw pixels in,
            a `(batch, dim)` feature vector out.
        preprocessing: how ImageNet weights expect pixels (see
            `zoo.layers.preprocessing.ImagePreprocessing`).
        patch_size: input sides must be a multiple of this (1 for CNNs).
        min_size: smallest input side the architecture accepts.
        weights_preprocessing: optional `fn(weights_path) -> mode | {"mean", "std"} | None`,
            the pixel normalisation a weights file expects when it differs by
            file (timm ViT checkpoints); None from it means `preprocessing`.
        default_recipe: the `recipes` module a plain `zoo train --model NAME` uses.
        application: the `keras.applications` constructor the backbone is, or None.
        layer_depth: `fn(variable paths) -> {path: depth}`, the family's layer order for
            layer-wise learning-rate decay (stem 0 ... heads at the top); None: unknown.
    """

    name: str
    family: str
    fn: Callable[..., keras.Model]
    preprocessing: str
    patch_size: int = 1
    min_size: int = 32
    weights_preprocessing: Callable[[str], str | dict | None] | None = None
    default_recipe: str = "resnet"
    application: Callable[..., keras.Model] | None = None
    layer_depth: Callable[[list[str]], dict[str, int]] | None = None


_REGISTRY: dict[str, BackboneSpec] = {}


def register(
    name: str,
    *,
    family: str,
    preprocessing: str,
    patch_size: int = 1,
    min_size: int = 32,
    weights_preprocessing=None,
    default_recipe: str = "resnet",
    application=None,
    layer_depth=None,
):
    """Decorator: register `fn(input_shape, weights)` as backbone `name` (fields: `BackboneSpec`)."""

    def wrap(fn):
        if name in _REGISTRY:
            raise ValueError(f"backbone {name!r} is registered twice")
        _REGISTRY[name] = BackboneSpec(
            name, family, fn, preprocessing, patch_size, min_size, weights_preprocessing,
            default_recipe=default_recipe, application=application, layer_depth=layer_depth,
        )
        return fn

    return wrap


def list_models(family: str | None = None) -> list[str]:
    """Sorted registered names, optionally only one family's."""
    return sorted(n for n, s in _REGISTRY.items() if family is None or s.family == family)


def get(name: str) -> BackboneSpec:
    """The spec for `name`; an unknown name raises ValueError suggesting the closest ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(str(name).lower(), _REGISTRY, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else f"valid: {', '.join(list_models())}"
        raise ValueError(f"unknown model {name!r}; {hint}") from None
