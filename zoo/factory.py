"""Build backbones and multi-task models by name, and load saved ones safely."""

import os

import keras

from data_tools.labels import LabelSpace
from zoo import registry
from zoo.artist_model import ArtistModel, adopt
from zoo.heads import DEFAULT_TASKS
from zoo.layers.preprocessing import make_preprocessing
from zoo.registry import check_input_shape

PRETRAINED = ("pretrained", "imagenet")


def resolve_weights(name: str, weights):
    """What `spec.fn` gets for `weights`: None, "imagenet" (keras.applications), a file, or
    what the family's `resolve_weights` makes of a name (hf:// download, preset, folder).

    "pretrained" and "imagenet" mean `registry.default_weights(name)` (`python -m zoo list`).
    ValueError (one line) for what the family cannot take, or a download that fails.
    """
    spec = registry.get(name)
    if weights is None:
        return None
    if not isinstance(weights, str | os.PathLike):
        raise ValueError(f"weights: expected None, 'pretrained', a name or a path, got {weights!r}")
    weights = os.fspath(weights)
    if weights in PRETRAINED:
        weights = registry.default_weights(name)
        if weights is None:
            raise ValueError(f"{name}: no pretrained weights known; pass a weights file or none")
    if weights == "imagenet" or os.path.isfile(weights):
        return weights
    if spec.resolve_weights is None:
        kind = "a ViT" if spec.family == "vit" else "a keras.applications backbone"
        raise ValueError(f"weights {weights!r}: not a file; {name} is {kind}, it takes 'pretrained', "
                         "a weights file" + (" or hf://timm/NAME" if spec.family == "vit" else "")
                         + " or none")
    return spec.resolve_weights(weights)


def backbone(name: str, *, input_shape=(128, 128, 3), weights=None, preprocessing=None) -> keras.Model:
    """A backbone by registry name: raw pixels `(batch, H, W, 3)` in 0-255 ->
    pooled features `(batch, dim)`.

    The preprocessing the weights expect runs inside the model.
    `weights`: None (random init); "pretrained" (or "imagenet"): the family's default
    source (`python -m zoo list`; downloads, offline ValueError); a path to a weights file
    of the inner network (keras.applications families: one saved from the matching
    application with `include_top=False`; ViT: a timm checkpoint
    `.safetensors`/`.pth`/`.bin` or a file from `python -m zoo convert-weights`);
    `hf://org/name` (ViT: a timm repository; DINOv2/CLIP/SigLIP: a transformers
    checkpoint); DINOv2/CLIP/SigLIP also a keras-hub preset name or a checkpoint folder.
    `preprocessing`: override of the pixel normalisation, a mode of
    `ImagePreprocessing` or `{"mean": (r, g, b), "std": (r, g, b)}` in 0-1 units;
    by default the registry's, or what the weights file's sidecar says (ViT).
    """
    spec = registry.get(name)
    shape = check_input_shape(name, input_shape)
    weights = resolve_weights(name, weights)
    if preprocessing is None and spec.weights_preprocessing and weights not in (None, "imagenet"):
        preprocessing = spec.weights_preprocessing(weights)
    pre = make_preprocessing(preprocessing or spec.preprocessing, name="preprocess")
    network = spec.fn(shape, weights)
    images = keras.Input(shape, name="images")
    return keras.Model(images, network(pre(images)), name=f"{name}_backbone")


def build(
    name: str,
    *,
    tasks: dict | LabelSpace | None = None,
    input_shape=(128, 128, 3),
    weights=None,
    dropout: float = 0.2,
    target_scaling: dict | None = None,
    image_filter=None,
    bn_momentum: float | None = None,
    preprocessing=None,
) -> ArtistModel:
    """Backbone + the shared multi-task head, as a `zoo.ArtistModel`.

    Args:
        tasks: a `data_tools.labels.LabelSpace`, or a dict head name -> class count,
            list of class names, or "regression"; default `zoo.heads.DEFAULT_TASKS`
            (50 artists, 27 movements, year).
        target_scaling: with a tasks dict, regression head -> (center, scale); "year"
            defaults to `data_tools.labels.DEFAULT_SCALING` (1850, 100). The model
            outputs target units (years).
        image_filter: None, a spec such as "lowpass:0.2" / "sharpen", or a
            Keras layer applied to the raw pixels before the backbone.
        bn_momentum: BatchNormalization moving-average momentum (Keras: 0.99).
            0.9 lets the inference statistics catch up within a few hundred
            steps when training from scratch on small data.
        preprocessing: pixel normalisation override, as in `backbone`.

    Returns an `ArtistModel` from `(batch, H, W, 3)` pixels 0-255 to a dict:
    class heads `(batch, n)` probabilities, regression heads `(batch, 1)`.
    """
    if isinstance(tasks, LabelSpace):
        if target_scaling:
            raise ValueError("target_scaling: a LabelSpace carries its own scaling; pass a tasks dict")
        label_space = tasks
    else:
        label_space = LabelSpace.from_tasks(DEFAULT_TASKS if tasks is None else tasks, target_scaling)
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    net = backbone(name, input_shape=input_shape, weights=weights, preprocessing=preprocessing)
    if bn_momentum is not None:
        for layer in net._flatten_layers(include_self=False):
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = float(bn_momentum)
    if isinstance(image_filter, str):
        from zoo.layers.frequency import make_image_filter

        image_filter = make_image_filter(image_filter)
    return ArtistModel(net, label_space, image_filter=image_filter, dropout=dropout, name=name)


def load_model(path, *, compile: bool = True) -> ArtistModel:
    """Load a `.keras` file in safe mode (a file that carries code, e.g. a Lambda, is refused).

    Files written before `ArtistModel` existed (a plain functional model) are adopted:
    same layers, weights and outputs, and with `compile` their optimizer state.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"model file not found: {path}")
    return adopt(keras.saving.load_model(path, compile=compile, safe_mode=True))
