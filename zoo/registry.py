"""One registry of backbones, filled by the `@register` decorator in each family file.

Like timm's `register_model`: a family file decorates one small builder per
model name; `list_models()` and `get()` read the table. `BUILT_IN` names the
family module of every built-in name, so `list_models()` answers without
importing keras, and `get(name)` imports only that name's family module
(tests/test_cli.py checks the table against what the modules register).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

# Family module -> {family: names it registers}.
BUILT_IN: dict[str, dict[str, tuple[str, ...]]] = {
    "zoo.models.clip": {"clip": ("clip_base16", "clip_large14")},
    "zoo.models.convnext": {"convnext": ("convnext_tiny", "convnext_small", "convnext_base", "convnext_large")},
    "zoo.models.dinov2": {"dinov2": tuple(f"dinov2_{r}{s}14" for r in ("", "reg_")
                                          for s in ("small", "base", "large")) + ("dinov2_tiny14",)},
    "zoo.models.efficientnet": {
        "efficientnet": tuple(f"efficientnet_b{i}" for i in range(8)),
        "efficientnetv2": tuple(f"efficientnetv2_{s}" for s in ("b0", "b1", "b2", "b3", "s", "m", "l")),
    },
    "zoo.models.resnet": {"resnet": ("resnet50", "resnet101", "resnet152")},
    "zoo.models.siglip": {"siglip": ("siglip_base16",)},
    "zoo.models.vit": {"vit": ("vit_tiny16", "vit_small16", "vit_base16", "vit_large16")},
}


@dataclass(frozen=True)
class BackboneSpec:
    """What the zoo knows about one backbone name.

    Attributes:
        name: registry name, e.g. "resnet50".
        family: "resnet", "efficientnet", "efficientnetv2", "convnext", "vit", "dinov2",
            "clip" or "siglip".
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
        resolve_weights: optional `fn(weights) -> weights` turning a name (hf:// handle,
            preset) into what `fn` takes (downloads; offline ValueError); None: as given.
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
    resolve_weights: Callable[[str], str] | None = None


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
    resolve_weights=None,
):
    """Decorator: register `fn(input_shape, weights)` as backbone `name` (fields: `BackboneSpec`)."""

    def wrap(fn):
        if name in _REGISTRY:
            raise ValueError(f"backbone {name!r} is registered twice")
        _REGISTRY[name] = BackboneSpec(
            name, family, fn, preprocessing, patch_size, min_size, weights_preprocessing,
            default_recipe=default_recipe, application=application, layer_depth=layer_depth,
            resolve_weights=resolve_weights,
        )
        return fn

    return wrap


def list_models(family: str | None = None) -> list[str]:
    """Sorted names (built-in and registered), optionally only one family's; imports no keras."""
    names = {n for fams in BUILT_IN.values() for f, ns in fams.items() if family in (None, f) for n in ns}
    names.update(n for n, s in _REGISTRY.items() if family is None or s.family == family)
    return sorted(names)


# Family (or name) -> (min_size, patch_size) where it differs from BackboneSpec's defaults, so
# that `check_input_shape` answers without importing keras (tests/test_cli.py checks the specs).
INPUT_RULES: dict[str, tuple[int, int]] = {"vit": (16, 16), "dinov2": (14, 14), "clip_base16": (16, 16),
                                           "clip_large14": (14, 14), "siglip": (16, 16)}


_TIMM = "hf://timm/vit_{}_patch16_224.augreg_in21k"  # ImageNet-21k (augreg, Steiner et al. 2022)
_DINO = "hf://facebook/dinov2-{}"
# Family (or name) -> what `weights="pretrained"` (or "imagenet") loads, keras-free for `zoo list`.
DEFAULT_WEIGHTS: dict[str, str] = {
    "resnet": "imagenet", "efficientnet": "imagenet", "efficientnetv2": "imagenet", "convnext": "imagenet",
    **{f"vit_{s}16": _TIMM.format(s) for s in ("tiny", "small", "base", "large")},
    **{f"dinov2_{s}14": _DINO.format(s) for s in ("small", "base", "large")},
    **{f"dinov2_reg_{s}14": _DINO.format(f"with-registers-{s}") for s in ("small", "base", "large")},
    "clip_base16": "hf://openai/clip-vit-base-patch16", "clip_large14": "hf://openai/clip-vit-large-patch14",
    "siglip_base16": "hf://google/siglip-base-patch16-224",
}


def family_of(name: str) -> str:
    """The family of `name` without importing keras; ValueError for an unknown name."""
    if name in _REGISTRY:
        return _REGISTRY[name].family
    family = next((f for fams in BUILT_IN.values() for f, ns in fams.items() if name in ns), None)
    return family if family is not None else get(name).family


def default_weights(name: str) -> str | None:
    """What `weights="pretrained"` means for `name` ("imagenet": keras.applications; an
    `hf://` handle), None when nothing is known; imports no keras."""
    return DEFAULT_WEIGHTS.get(name, DEFAULT_WEIGHTS.get(family_of(name)))


def input_rule(name: str) -> tuple[int, int]:
    """(min_size, patch_size) of `name` without importing keras; ValueError for an unknown name."""
    if name in _REGISTRY:
        return _REGISTRY[name].min_size, _REGISTRY[name].patch_size
    family = next((f for fams in BUILT_IN.values() for f, ns in fams.items() if name in ns), None)
    if family is None:
        get(name)  # raises, naming the closest names
    return INPUT_RULES.get(name, INPUT_RULES.get(family, (BackboneSpec.min_size, BackboneSpec.patch_size)))


def check_input_shape(name: str, input_shape) -> tuple[int, int, int]:
    """Return `input_shape` as a tuple, or raise ValueError saying what `name` accepts."""
    min_size, patch_size = input_rule(name)
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[2] != 3 or not all(isinstance(s, int) for s in shape):
        raise ValueError(f"{name}: input_shape must be (height, width, 3), got {shape}")
    height, width, _ = shape
    if min(height, width) < min_size or height % patch_size or width % patch_size:
        need = f"sides >= {min_size}"
        if patch_size > 1:
            need += f" and divisible by {patch_size}"
        raise ValueError(f"{name}: image size {height}x{width} not accepted; needs {need}")
    return shape


def get(name: str) -> BackboneSpec:
    """The spec for `name` (importing its family module); an unknown name raises ValueError
    suggesting the closest ones."""
    module = next((m for m, fams in BUILT_IN.items() for ns in fams.values() if name in ns), None)
    if module and name not in _REGISTRY:
        importlib.import_module(module)
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(str(name).lower(), list_models(), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else f"valid: {', '.join(list_models())}"
        raise ValueError(f"unknown model {name!r}; {hint}") from None
