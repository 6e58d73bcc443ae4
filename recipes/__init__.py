"""Recipes: one small Python config per experiment, as in big_vision.

Each module in this folder defines `RECIPE = Recipe(...)`. `load(name)` returns
it; `python -m zoo train --recipe NAME` trains it, and command-line flags
override single fields.
"""

import dataclasses
import difflib
import importlib
import pkgutil
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Recipe:
    """Everything one training run needs besides the data and the backend.

    Units: `lr` is the peak learning rate, `warmup_epochs`/`epochs` count
    passes over the training split, `image_size` is the square side in pixels.
    """

    model: str = "resnet50"
    image_size: int = 128
    batch_size: int = 16
    epochs: int = 30
    optimizer: str = "adam"  # "adam" | "adamw" | "sgd"
    lr: float = 1e-4
    weight_decay: float = 0.0
    schedule: str = "plateau"  # "plateau" (ReduceLROnPlateau) | "cosine" (warmup + cosine)
    warmup_epochs: float = 0.0
    clipnorm: float | None = 1.0  # global-norm gradient clipping; None = off
    label_smoothing: float = 0.0
    dropout: float = 0.2
    bn_momentum: float | str | None = None  # BatchNorm momentum; None: Keras' 0.99; "auto": from steps/epoch
    augment: str = "basic"  # "none" | "basic" | "randaugment"
    mix: str | None = None  # None | "mixup" | "cutmix"
    image_filter: str | None = None  # e.g. "lowpass:0.2", "sharpen" (zoo.layers.frequency)
    loss_weights: dict = field(default_factory=lambda: {"artist": 1.0, "movement": 0.5, "year": 0.5})
    weights: str | None = None  # None/"none" (random) | "imagenet" | weights file | RUN/model.keras
    freeze_epochs: int = 0  # first N epochs train the heads only (backbone frozen, BN inference)
    backbone_lr_scale: float = 1.0  # backbone learning rate = lr x this
    layer_decay: float = 1.0  # ViT/ConvNeXt: lr x decay^(top - depth) (zoo.models.layer_depth; BEiT/MAE)
    early_stopping: int | None = None  # patience in epochs; None = off
    precision: str = "auto"  # "auto" (follows the hardware) | "float32" | "bfloat16" | "float16"; weights stay float32
    accumulate: int = 1  # gradient accumulation: steps of batch_size / accumulate images, one update per batch_size
    balanced: bool = False  # class-balanced sampling of artists
    validate: bool = True  # a validation pass after each epoch; False: none, checkpoints follow the training loss

    def replace(self, **changes) -> "Recipe":
        """A copy with `changes` applied; None values are ignored (flag not given)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown recipe field(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# Which recipe a model uses when no --recipe is given (by name prefix).
FAMILY_DEFAULTS = {"resnet": "resnet", "efficientnet": "efficientnet", "vit": "vit",
                   "convnext": "convnext"}


def list_recipes() -> list[str]:
    """Sorted names of the recipe modules in this package."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def load(name: str) -> Recipe:
    """The `RECIPE` of module `recipes.<name>`; unknown names raise ValueError with the choices."""
    names = list_recipes()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ValueError(f"unknown recipe {name!r}; {hint}valid: {', '.join(names)}")
    return importlib.import_module(f"recipes.{name}").RECIPE


def default_for(model: str) -> str:
    """The default recipe name for a model name (its family's)."""
    for prefix, recipe in FAMILY_DEFAULTS.items():
        if model.startswith(prefix):
            return recipe
    return "resnet"
