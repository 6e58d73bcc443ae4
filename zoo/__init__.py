"""Keras 3 multi-backend model zoo for artist recognition.

    import zoo
    zoo.list_models()                      # ['efficientnet_b0', ..., 'vit_tiny16']
    model = zoo.build("resnet152")         # dict outputs: artist, movement, year
    feats = zoo.backbone("vit_small16")    # pixels -> (batch, 384)

Choose the backend (KERAS_BACKEND=jax|tensorflow|torch) before importing keras.
"""

from zoo import models  # noqa: F401  (registers every backbone)
from zoo.factory import backbone, build, check_input_shape, load_model
from zoo.heads import DEFAULT_TASKS, TaskHead
from zoo.registry import list_models

__all__ = [
    "DEFAULT_TASKS",
    "TaskHead",
    "backbone",
    "build",
    "check_input_shape",
    "list_models",
    "load_model",
]
