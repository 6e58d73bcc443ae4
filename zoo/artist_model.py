"""`ArtistModel`: the zoo's task object, a backbone with one head per task of a label space.

Shaped like keras-hub's tasks (`keras_hub.models.ImageClassifier`): a functional
`keras.Model` subclass that keeps its parts as attributes and serialises its
backbone in `get_config`, so `.keras` files rebuild it through `from_config`.

    pixels (B, H, W, 3) 0-255 -> [image_filter] -> backbone -> (B, dim)
                              -> head_dropout -> {task: TaskHead} -> {task: (B, n) | (B, 1)}

The layer names (`images`, the filter's, `{model}_backbone`, `head_dropout`, one
per task) and their order are those of the pre-restructure plain `keras.Model`,
so variable paths, `.weights.h5` files and `get_weights()` lists are unchanged.
"""

import keras
from keras import layers

from data_tools.labels import LabelSpace, Task
from zoo.heads import TaskHead


@keras.saving.register_keras_serializable(package="zoo")
class ArtistModel(keras.Model):
    """Backbone + shared dropout + one `TaskHead` per task of `label_space`.

    Args:
        backbone: `keras.Model` from pixels `(B, H, W, 3)` 0-255 to pooled features
            `(B, dim)`, its pixel normalisation (layer "preprocess") inside.
        label_space: the tasks, in head order.
        image_filter: a Keras layer applied to the raw pixels before the backbone, or None.
        dropout: rate of the dropout between the features and the heads (0: none).
        heads: existing `TaskHead` layers to reuse, by task name (adopting a saved
            model keeps its variables); by default new ones made from `label_space`.
        dropout_layer: an existing dropout layer to reuse, with `heads`.
        calibration: the temperatures, conformal thresholds and unknown-artist threshold fitted
            on a validation split (`zoo.calibration.store`), or None (an uncalibrated model);
            new heads get its temperatures.
    """

    def __init__(self, backbone, label_space, *, image_filter=None, dropout=0.2, name=None,
                 heads=None, dropout_layer=None, calibration=None, **kwargs):
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if heads is None:  # a saved model's temperatures are in its calibration record
            temps = (calibration or {}).get("temperature", {})
            heads = {t.name: TaskHead(t.classes, t.center, t.scale, temperature=temps.get(t.name, 1.0), name=t.name)
                     for t in label_space.tasks}
        if dropout_layer is None and dropout:
            dropout_layer = layers.Dropout(dropout, name="head_dropout")
        images = keras.Input(backbone.input_shape[1:], name="images")
        x = image_filter(images) if image_filter is not None else images
        features = backbone(x)
        x = dropout_layer(features) if dropout_layer is not None else features
        outputs = {t.name: heads[t.name](x) for t in label_space.tasks}
        super().__init__(inputs=images, outputs=outputs, name=name, **kwargs)
        # Set after the graph: the tracked layer order (and so `weights`) stays the graph's.
        self.backbone = backbone
        self.heads = dict(heads)
        self._label_space = label_space
        self._image_filter = image_filter
        self._dropout = float(dropout)
        self.calibration = calibration

    @property
    def label_space(self) -> LabelSpace:
        return self._label_space

    @property
    def image_filter(self):
        """The layer filtering raw pixels before the backbone, or None."""
        return self._image_filter

    @property
    def preprocessing(self):
        """The backbone's pixel-normalisation layer (0-255 pixels in)."""
        return self.backbone.get_layer("preprocess")

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) of the pixels the model takes."""
        height, width = self.backbone.input_shape[1:3]
        return int(height), int(width)

    def feature_extractor(self) -> keras.Model:
        """A model sharing these layers: pixels `(B, H, W, 3)` 0-255 -> pooled features `(B, dim)`."""
        images = keras.Input(self.backbone.input_shape[1:], name="images")
        x = self._image_filter(images) if self._image_filter is not None else images
        return keras.Model(images, self.backbone(x), name=f"{self.name}_features")

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.layers.serialize(self.backbone),
            "label_space": self._label_space.to_json(),
            "image_filter": None if self._image_filter is None else keras.layers.serialize(self._image_filter),
            "dropout": self._dropout,
            **({"calibration": self.calibration} if self.calibration else {}),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.layers.deserialize(config["backbone"])
        config["label_space"] = LabelSpace.from_json(config["label_space"])
        if config.get("image_filter") is not None:
            config["image_filter"] = keras.layers.deserialize(config["image_filter"])
        return cls(**config)


def adopt(model: keras.Model) -> ArtistModel:
    """An `ArtistModel` over the layers of a pre-restructure zoo model (a plain functional
    `keras.Model`: images -> [filter] -> backbone -> [head_dropout] -> TaskHeads).

    The layers themselves are reused: same variables, same outputs; a compiled `model`'s
    optimizer (with its state), losses and metrics carry over, so a resumed run continues.
    A functional model without one nested backbone (any network ending in TaskHeads) gets
    its graph up to the heads as the backbone.
    """
    if isinstance(model, ArtistModel):
        return model
    heads = {name: model.get_layer(name) for name in model.output_names}
    if not all(isinstance(h, TaskHead) for h in heads.values()):
        raise ValueError(f"model {model.name!r} is not a zoo model (its outputs are not TaskHeads)")
    parts = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    nested = [layer for layer in parts if isinstance(layer, keras.Model)]
    dropouts = [layer for layer in parts if layer.name == "head_dropout"]
    others = [layer for layer in parts if layer not in nested and layer not in dropouts
              and layer not in heads.values()]
    if len(nested) == 1 and len(others) <= 1:
        backbone, image_filter = nested[0], (others[0] if others else None)
    else:
        features = dropouts[0].input if dropouts else next(iter(heads.values())).input
        backbone, image_filter = keras.Model(model.inputs, features, name=f"{model.name}_backbone"), None
    label_space = LabelSpace(tuple(Task(n, tuple(h.class_names), h.center, h.scale) for n, h in heads.items()))
    adopted = ArtistModel(
        backbone, label_space, image_filter=image_filter,
        dropout=float(dropouts[0].rate) if dropouts else 0.0, name=model.name,
        heads=heads, dropout_layer=dropouts[0] if dropouts else None)
    if getattr(model, "optimizer", None) is not None and model.compiled:
        config = keras.saving.deserialize_keras_object(model.get_compile_config())
        config["optimizer"] = model.optimizer  # built: its variables are the reused layers'
        adopted.compile(**config)
    return adopted
