"""The shared multi-task head: one module that every backbone ends in.

`tasks` maps a head name to what it predicts:
    int n               -> n-way softmax (class names "0".."n-1")
    list of class names -> softmax over those names (stored in the model)
    "regression"        -> one linear unit, output in the target's own units

Regression heads learn a standardised target z and output `z * scale + center`,
so a "year" head outputs years and the scaling lives in the saved model.
"""

from dataclasses import dataclass

import keras
from keras import layers, ops

# The seed project's setting: the 50 artists with most works in Art500k, their
# art movements (27 = WikiArt's style classes), and the year of the artwork.
DEFAULT_TASKS = {"artist": 50, "movement": 27, "year": "regression"}

# (center, scale) of a regression target when the caller gives none: years
# 1750-1950 map to -1..1.
DEFAULT_TARGET_SCALING = {"year": (1850.0, 100.0)}


@dataclass(frozen=True)
class TaskSpec:
    """One normalised head: `class_names` is empty for a regression head."""

    name: str
    class_names: tuple[str, ...] = ()

    @property
    def is_regression(self) -> bool:
        return not self.class_names


def normalize_tasks(tasks: dict) -> list[TaskSpec]:
    """Validate a `tasks` dict and turn it into TaskSpecs (in the dict's order)."""
    if not isinstance(tasks, dict) or not tasks:
        raise ValueError(f"tasks must be a non-empty dict of head name -> classes, got {tasks!r}")
    specs = []
    for name, what in tasks.items():
        if what == "regression":
            specs.append(TaskSpec(name))
        elif isinstance(what, int) and not isinstance(what, bool) and what >= 2:
            specs.append(TaskSpec(name, tuple(str(i) for i in range(what))))
        elif isinstance(what, list | tuple) and len(what) >= 2 and len(set(what)) == len(what):
            specs.append(TaskSpec(name, tuple(str(c) for c in what)))
        else:
            raise ValueError(
                f"task {name!r}: expected a class count >= 2, a list of distinct class names, "
                f"or 'regression', got {what!r}"
            )
    return specs


@keras.saving.register_keras_serializable(package="zoo")
class TaskHead(layers.Layer):
    """One task's output layer: `(batch, dim)` features ->
    `(batch, n_classes)` probabilities, or `(batch, 1)` values in target units.

    Runs in float32 even under mixed precision, as Keras advises for outputs.
    """

    def __init__(self, class_names=(), center: float = 0.0, scale: float = 1.0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.class_names = tuple(class_names)
        self.center = float(center)
        self.scale = float(scale)
        units = len(self.class_names) or 1
        self.dense = layers.Dense(units, dtype=self.dtype_policy, name="dense")

    @property
    def is_regression(self) -> bool:
        return not self.class_names

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, features):
        out = self.dense(features)
        if self.is_regression:
            return out * self.scale + self.center
        return ops.softmax(out, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.class_names) or 1)

    def get_config(self):
        return {
            **super().get_config(),
            "class_names": list(self.class_names),
            "center": self.center,
            "scale": self.scale,
        }


def multitask_head(features, tasks: list[TaskSpec], *, dropout: float = 0.2, target_scaling=None):
    """Attach one `TaskHead` per task to `features` (a `(batch, dim)` KerasTensor).

    Returns a dict task name -> output tensor, ready for `keras.Model(inputs, outputs)`.
    `target_scaling` maps regression task names to `(center, scale)`.
    """
    scaling = {**DEFAULT_TARGET_SCALING, **(target_scaling or {})}
    x = layers.Dropout(dropout, name="head_dropout")(features) if dropout else features
    outputs = {}
    for task in tasks:
        center, scale = scaling.get(task.name, (0.0, 1.0)) if task.is_regression else (0.0, 1.0)
        if scale <= 0:
            raise ValueError(f"target_scaling[{task.name!r}]: scale must be > 0, got {scale}")
        outputs[task.name] = TaskHead(task.class_names, center, scale, name=task.name)(x)
    return outputs
