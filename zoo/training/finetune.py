"""Fine-tuning pieces of the training loop: frozen backbone, per-variable learning rates,
starting from an earlier run, and BatchNorm momentum that suits the data size.

Keras 3 has one learning rate per optimizer. `ScaledAdam`/`ScaledAdamW`/`ScaledSGD`
(hand-written: Keras has no per-variable LR) multiply the learning rate passed to each
variable's update by a factor looked up by `variable.path`. That is what BEiT/MAE
layer-wise decay means; scaling the gradients instead would be undone by Adam's
normalisation. Works on all three backends (keras.ops only) and is saved with the model.

Depth of a backbone variable, for layer decay `lr * decay ** (top - depth)`: the one rule of
`zoo.models.layer_depth` (BEiT's `get_layer_id_for_vit`, the ConvNeXt paper's
`get_num_layer_for_convnext`); the heads sit at `top` (factor 1). `backbone_lr_scale`
multiplies every backbone factor.
"""

import os

import keras
from keras import ops

# ---------------------------------------------------------------- optimizer

@keras.saving.register_keras_serializable(package="zoo")
class OffsetSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """`schedule(step + offset)`: continues a schedule with a fresh optimizer (step 0)."""

    def __init__(self, schedule, offset: int):
        self.schedule = schedule
        self.offset = int(offset)

    def __call__(self, step):
        return self.schedule(ops.add(step, self.offset))

    def get_config(self):
        return {"schedule": keras.saving.serialize_keras_object(self.schedule), "offset": self.offset}

    @classmethod
    def from_config(cls, config):
        return cls(keras.saving.deserialize_keras_object(config["schedule"]), config["offset"])


def continued(optimizer, schedule):
    """`schedule` for a resumed `optimizer`: offset like its current one when that is an
    OffsetSchedule (an unfrozen phase 2 counts its steps from the unfreezing)."""
    current = getattr(optimizer, "inner_optimizer", optimizer)._learning_rate
    return OffsetSchedule(schedule, current.offset) if isinstance(current, OffsetSchedule) else schedule


class _ScaledLR:
    """Mixin: each variable's update uses `learning_rate * lr_scales.get(variable.path, 1)`."""

    def __init__(self, *args, lr_scales=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lr_scales = {str(k): float(v) for k, v in (lr_scales or {}).items()}

    def _groups(self, variables, values=None):
        groups = {}
        for i, var in enumerate(variables):
            group = groups.setdefault(self.lr_scales.get(var.path, 1.0), ([], []))
            group[0].append(var)
            group[1].append(values[i] if values is not None else None)
        return groups

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        for scale, (variables, group_grads) in self._groups(trainable_variables, grads).items():
            lr = learning_rate if scale == 1.0 else ops.multiply(learning_rate, scale)
            super()._backend_update_step(group_grads, variables, lr)

    def _apply_weight_decay(self, variables):
        # Decoupled weight decay (AdamW) scales with each variable's own learning rate.
        if self.weight_decay is None:
            return
        for scale, (group, _) in self._groups(variables).items():
            step = ops.multiply(ops.multiply(self.learning_rate, self.weight_decay), scale)
            for variable in group:
                if self._use_weight_decay(variable):
                    variable.assign(variable - variable * ops.cast(step, variable.dtype))

    def get_config(self):
        return {**super().get_config(), "lr_scales": dict(self.lr_scales)}


@keras.saving.register_keras_serializable(package="zoo")
class ScaledAdam(_ScaledLR, keras.optimizers.Adam):
    """Adam with a learning-rate factor per variable (`lr_scales`: variable path -> factor)."""


@keras.saving.register_keras_serializable(package="zoo")
class ScaledAdamW(_ScaledLR, keras.optimizers.AdamW):
    """AdamW with a learning-rate factor per variable (`lr_scales`: variable path -> factor)."""


@keras.saving.register_keras_serializable(package="zoo")
class ScaledSGD(_ScaledLR, keras.optimizers.SGD):
    """SGD with a learning-rate factor per variable (`lr_scales`: variable path -> factor)."""


SCALED = {"adam": ScaledAdam, "adamw": ScaledAdamW, "sgd": ScaledSGD}


def uses_finetuning(recipe) -> bool:
    """True when the recipe freezes the backbone or gives it other learning rates."""
    return bool(recipe.freeze_epochs) or recipe.backbone_lr_scale != 1.0 or recipe.layer_decay != 1.0


def scaled_optimizer(optimizer, recipe, model, *, previous=None, resumed_at=None):
    """`optimizer` turned into its Scaled* twin with the recipe's per-variable factors.

    `previous`: the optimizer of the frozen phase; its schedule continues where it
    stopped (or its current learning rate carries over, e.g. after ReduceLROnPlateau).
    `resumed_at`: (global step, learning rate) for a frozen phase resumed from a checkpoint.
    Plain `optimizer` when the recipe does not fine-tune.
    """
    if not uses_finetuning(recipe):
        return optimizer
    config = optimizer.get_config()
    if resumed_at is not None:
        step, lr = resumed_at
        schedule = optimizer._learning_rate
        if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            config["learning_rate"] = keras.saving.serialize_keras_object(OffsetSchedule(schedule, step))
        else:
            config["learning_rate"] = float(lr)
    elif previous is not None:
        previous = getattr(previous, "inner_optimizer", previous)  # under float16 loss scaling
        # Schedules see `_iterations` (every step); `iterations` counts updates, i.e. divides
        # by `gradient_accumulation_steps` (keras/src/optimizers/base_optimizer.py).
        steps = int(ops.convert_to_numpy(previous._iterations))
        old = previous._learning_rate
        if isinstance(old, keras.optimizers.schedules.LearningRateSchedule):
            if isinstance(old, OffsetSchedule):
                old, steps = old.schedule, steps + old.offset
            config["learning_rate"] = keras.saving.serialize_keras_object(OffsetSchedule(old, steps))
        else:
            config["learning_rate"] = float(ops.convert_to_numpy(previous.learning_rate))
    config["lr_scales"] = lr_scales(model, recipe)
    return SCALED[recipe.optimizer].from_config(config)


# ---------------------------------------------------------------- which layer is where

def lr_scales(model: keras.Model, recipe) -> dict[str, float]:
    """Variable path -> learning-rate factor for every backbone variable whose factor is not 1.

    Depths come from the backbone family's rule (`zoo.models.layer_depth`; the heads
    fix the top depth); a backbone without one raises ValueError when `layer_decay` is set.
    """
    from zoo.models import layer_depth

    base, decay = float(recipe.backbone_lr_scale), float(recipe.layer_decay)
    depths, top = {}, 0
    if decay != 1.0:
        try:
            depths = layer_depth(model)  # the whole model: the heads fix the top depth
        except ValueError as exc:
            raise ValueError(f"layer_decay: {exc}; use backbone_lr_scale instead") from None
        top = max(depths.values())
    scales = {}
    for variable in model.backbone.weights:
        factor = base * decay ** (top - depths[variable.path]) if depths else base
        if factor != 1.0:
            scales[variable.path] = factor
    return scales


# ---------------------------------------------------------------- the two phases

def freeze_backbone(model: keras.Model, frozen: bool) -> None:
    """Freeze (or unfreeze) the backbone; frozen BatchNorm layers run in inference mode.

    The model must be compiled again afterwards (Keras reads `trainable` at compile).
    """
    model.backbone.trainable = not frozen


def freeze_epochs(recipe) -> int:
    """Epochs of the frozen phase, capped at the run's epochs."""
    if recipe.freeze_epochs < 0:
        raise ValueError(f"freeze_epochs must be >= 0, got {recipe.freeze_epochs}")
    return min(int(recipe.freeze_epochs), recipe.epochs)


# ---------------------------------------------------------------- initial weights

def is_run_model(weights) -> bool:
    """True when `weights` names a saved zoo model (an earlier run's `model.keras`)."""
    return isinstance(weights, str | os.PathLike) and os.fspath(weights).endswith(".keras")


def build_weights(weights):
    """What `zoo.build(weights=...)` gets: None for none/a run's model.keras, else as given."""
    if weights is None or str(weights).lower() == "none" or is_run_model(weights):
        return None
    return weights


def check_weights(recipe, input_shape) -> None:
    """Fail before any data is read when the recipe's starting weights are unavailable.

    A name ("imagenet", "pretrained", an `hf://` handle, a keras-hub preset, a folder) builds
    the backbone once (downloads go to the Keras / Hugging Face / Kaggle caches); offline
    that fails here with one line saying what to pass instead.
    """
    import zoo

    weights = recipe.weights
    if weights is None or str(weights).lower() == "none" or os.path.isfile(weights):
        return
    if is_run_model(weights):
        raise ValueError(f"--weights {weights}: no such file (pass a weights file, "
                         "RUN/model.keras, pretrained or none)")
    try:
        zoo.backbone(recipe.model, input_shape=input_shape, weights=weights)
    except Exception as exc:  # download errors differ per OS and backend; all mean the same here
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        what = "ImageNet weights" if weights == "imagenet" else f"weights {weights!r}"
        raise ValueError(
            f"--weights {weights}: cannot load {what} for {recipe.model} ({reason[:160]}); "
            "offline, pass --weights FILE (weights file or RUN/model.keras) or --weights none "
            "(random init)") from None


def load_run_weights(model: keras.Model, path) -> list[str]:
    """Copy an earlier run's backbone (and each head whose labels match) into `model`.

    Returns the names of the heads that were kept from `path`; the others keep
    their fresh initialisation (different classes, or not in the earlier model).
    """
    import zoo

    source = zoo.load_model(path, compile=False)
    src, dst = source.backbone, model.backbone
    if src.name != dst.name:
        raise ValueError(f"--weights {path}: holds a {src.name.removesuffix('_backbone')} backbone, "
                         f"the recipe builds {dst.name.removesuffix('_backbone')}; pass --model "
                         f"{src.name.removesuffix('_backbone')}")
    for a, b in zip(src.weights, dst.weights, strict=True):
        if tuple(a.shape) != tuple(b.shape):
            raise ValueError(f"--weights {path}: {a.path} has shape {tuple(a.shape)}, this model needs "
                             f"{tuple(b.shape)} (different --image-size?)")
    dst.set_weights(src.get_weights())
    kept = []
    for name, new in model.heads.items():
        if name in source.label_space and source.label_space[name] == model.label_space[name]:
            new.set_weights(source.heads[name].get_weights())
            kept.append(name)
    return kept


# ---------------------------------------------------------------- EMA of the weights

def ema_options(recipe) -> dict:
    """Optimizer keywords for the recipe's weight EMA (Keras `use_ema`), or none."""
    return {"use_ema": True, "ema_momentum": float(recipe.ema)} if recipe.ema else {}


def ema_callbacks(recipe) -> list:
    """`SwapEMAWeights(swap_on_epoch=True)` with an EMA: each epoch ends with the EMA weights in
    the model, so validation, the checkpoints and the exported model see them."""
    return [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if recipe.ema else []


# ---------------------------------------------------------------- BatchNorm momentum

def bn_momentum(setting, steps_per_epoch: int) -> float | None:
    """BatchNorm momentum: a number as given, None for Keras' 0.99, or "auto".

    "auto" makes the moving statistics' time constant 1/(1 - m) about half an epoch,
    clipped to [0.9, 0.99]: 0.9 below 20 steps an epoch, 0.99 from 200 on. With
    0.99 and ~10 steps an epoch the inference statistics lag for many epochs.
    """
    if setting != "auto":
        return setting
    return min(0.99, max(0.9, 1.0 - 2.0 / max(1, steps_per_epoch)))
