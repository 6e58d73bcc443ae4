"""Keras 3 multi-backend model zoo for artist recognition.

    import zoo
    zoo.list_models()                      # ['convnext_base', ..., 'vit_tiny16']
    model = zoo.build("resnet152")         # dict outputs: artist, movement, year
    feats = zoo.backbone("vit_small16")    # pixels -> (batch, 384)

Choose the backend (KERAS_BACKEND=jax|tensorflow|torch) before the first model
call: `import zoo` itself loads nothing heavy (no keras, no backend). The names
below are resolved on first use (PEP 562), and that first use also registers
every backbone, filter layer and loss with Keras, so `zoo.load_model` can
deserialise any zoo file.
"""

import importlib

# Public name -> the module that defines it.
_LAZY = {
    "ArtistModel": "zoo.artist_model",
    "LabelSpace": "data_tools.labels",
    "DEFAULT_TASKS": "zoo.heads",
    "TaskHead": "zoo.heads",
    "backbone": "zoo.factory",
    "build": "zoo.factory",
    "check_input_shape": "zoo.registry",
    "load_model": "zoo.factory",
    "list_models": "zoo.registry",
}
# Imported for their side effect: Keras-serializable classes and registered backbones.
_REGISTERING = ("zoo.models", "zoo.layers.frequency", "zoo.training.losses")

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'zoo' has no attribute {name!r}")
    if name != "list_models":  # the registry's names need no keras (zoo.registry)
        for module in _REGISTERING:
            importlib.import_module(module)
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
