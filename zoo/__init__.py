"""Keras 3 multi-backend model zoo for artist recognition.

    import zoo
    zoo.list_models()                      # ['efficientnet_b0', ..., 'vit_tiny16']
    model = zoo.build("resnet152")         # dict outputs: artist, movement, year
    feats = zoo.backbone("vit_small16")    # pixels -> (batch, 384)

Choose the backend (KERAS_BACKEND=jax|tensorflow|torch) before importing keras.
"""

from zoo import backend_select

backend_select.from_command_line()  # `python -m zoo --backend X` picks X before keras loads
backend_select.quiet_native_logs()  # TensorFlow's C++ start-up notices, filtered out

from zoo import models  # noqa: E402, F401  (registers every backbone)
from zoo.artist_model import ArtistModel  # noqa: E402
from zoo.factory import backbone, build, check_input_shape, load_model  # noqa: E402
from zoo.heads import DEFAULT_TASKS, TaskHead  # noqa: E402
from zoo.layers import frequency as _frequency  # noqa: E402, F401  (registers the filters)
from zoo.registry import list_models  # noqa: E402
from zoo.training import losses as _losses  # noqa: E402, F401  (registers ScaledHuber)

__all__ = [
    "ArtistModel",
    "DEFAULT_TASKS",
    "TaskHead",
    "backbone",
    "build",
    "check_input_shape",
    "list_models",
    "load_model",
]
