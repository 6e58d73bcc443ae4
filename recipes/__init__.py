"""Recipes: one small Python config per experiment, as in big_vision.

Each module in this folder defines `RECIPE = Recipe(...)`. `load(name)` returns
it; `python -m zoo train --recipe NAME` trains it, and command-line flags
override single fields.
"""

import dataclasses
import difflib
import importlib
import pkgutil
import re
from dataclasses import dataclass, field


def knob(default, help: str, *, flag: bool = False, choices: tuple = (), at_least=None,
         above=None, factory=None):
    """A Recipe field with its description. `flag`: `python -m zoo train` has a flag of the
    same name (zoo.cli.train generates it, `--image-size` for `image_size`); `choices`,
    `at_least`, `above`: what `Recipe.validate` accepts."""
    meta = {"help": help, "flag": flag, "choices": choices, "at_least": at_least, "above": above}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Recipe:
    """Everything one training run needs besides the data and the backend.

    Units: `lr` is the peak learning rate, `warmup_epochs`/`epochs` count
    passes over the training split, `image_size` is the square side in pixels.
    Each field's description is its `help` (and the `train` flag's help).
    """

    model: str = knob("resnet50", "zoo model name (default: the recipe's)", flag=True)
    image_size: int = knob(128, "square input side in pixels", flag=True, at_least=1)
    batch_size: int = knob(16, "images per optimizer update", flag=True, at_least=1)
    epochs: int = knob(30, "passes over the training split", flag=True, at_least=1)
    optimizer: str = knob("adam", "optimizer", choices=("adam", "adamw", "sgd"))
    lr: float = knob(1e-4, "peak learning rate", flag=True, above=0)
    weight_decay: float = knob(0.0, "decoupled weight decay (adamw) or L2 factor")
    schedule: str = knob("plateau", "plateau (ReduceLROnPlateau) | cosine (warmup + cosine)",
                         choices=("plateau", "cosine"))
    warmup_epochs: float = knob(0.0, "linear warm-up length in epochs (cosine)")
    clipnorm: float | None = knob(1.0, "global-norm gradient clipping; None = off")
    label_smoothing: float = knob(0.0, "label smoothing of the classification losses")
    dropout: float = knob(0.2, "head dropout rate", flag=True)
    bn_momentum: float | str | None = knob(None, 'BatchNorm momentum; None: Keras\' 0.99; "auto": from steps/epoch')
    augment: str = knob("basic", "training augmentation", flag=True, choices=("none", "basic", "randaugment"))
    mix: str | None = knob(None, "batch mixing (default none)", flag=True, choices=(None, "mixup", "cutmix"))
    image_filter: str | None = knob(None, 'e.g. "lowpass:0.2", "highpass:0.1", "sharpen" (zoo.layers.frequency)',
                                    flag=True)
    loss_weights: dict = knob(None, "loss weight per head", factory=lambda: {"artist": 1.0, "movement": 0.5, "year": 0.5})
    default_loss_weight: float = knob(0.5, "loss weight of a head loss_weights does not name (genre, style, ...)",
                                      at_least=0)
    tasks: str | None = knob(None, "train only these heads, comma-separated, e.g. artist,genre (default: every "
                             "task the data labels; artist is always one)", flag=True)
    weights: str | None = knob(None, '"pretrained" (the model\'s default source, `zoo list`; "imagenet" '
                               'the same), "none" (random init), hf://org/name, a keras-hub preset, a checkpoint '
                               "folder or weights file, or an earlier RUN/model.keras (its backbone; heads "
                               "replaced when the labels differ)", flag=True)
    freeze_epochs: int = knob(0, "first N epochs train the heads only (backbone frozen, BN inference)",
                              flag=True, at_least=0)
    backbone_lr_scale: float = knob(1.0, "backbone learning rate = lr x this", flag=True)
    layer_decay: float = knob(1.0, "layer-wise LR decay, e.g. 0.65: lr x decay^(top - depth) (each family's layer-depth rule)",
                              flag=True)
    ema: float | None = knob(None, "EMA momentum of the weights (e.g. 0.999, Keras use_ema); validation, the best "
                             "checkpoint and model.keras use the EMA weights; None = off")
    probe: bool = knob(False, "linear probe: the backbone stays frozen, its features are computed once per image "
                       "(cached under DATA/.cache) and only the heads train on them (zoo.training.probe)")
    early_stopping: int | None = knob(None, "patience in epochs; None = off")
    precision: str = knob("auto", "compute precision (default auto: mixed bf16 where the CPU/GPU/TPU has bf16 "
                          "units, mixed float16 on 7.x GPUs, else float32); weights stay float32",
                          flag=True, choices=("auto", "float32", "bfloat16", "float16"))
    accumulate: int = knob(1, "gradient accumulation: steps of batch-size / N images, one update per batch "
                           "(less memory, the same effective batch)", flag=True, at_least=1)
    balanced: bool = knob(False, "class-balanced sampling of artists")
    validate: bool = knob(True, "a validation pass after each epoch; False: none, checkpoints follow the training loss")
    # After training, on the validation split (zoo.training.calibrate; README "Calibration, sets, unknown artist")
    calibrate: str = knob("temperature", "temperature: fit one temperature per classification head (NLL) on "
                          "the validation split; none: raw softmax", flag=True, choices=("temperature", "none"))
    coverage: float = knob(0.9, "prediction-set / year-interval coverage fitted on the validation split",
                           flag=True, above=0)
    conformal: str = knob("lac", "conformal set method", flag=True, choices=("lac", "aps", "raps"))
    class_conditional: bool = knob(False, "one conformal threshold per class (coverage per artist)")
    unknown_tpr: float = knob(0.95, "share of known-artist validation works the unknown-artist threshold accepts",
                              flag=True, above=0)
    outlier_exposure: float = knob(0.0, 'outlier exposure: "Unknown Artist" rows are no artist class and train '
                                   "the artist head towards a uniform output with this loss weight (0: off)",
                                   flag=True, at_least=0)
    unknown_score: str = knob("energy", "unknown-artist score: energy (from the logits; Keras models, exports "
                              "fall back to msp) | msp (max softmax probability)", flag=True, choices=("msp", "energy"))

    def __post_init__(self):
        check(self)

    def replace(self, **changes) -> "Recipe":
        """A copy with `changes` applied; None values are ignored (flag not given)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown recipe field(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def loss_weight(self, task: str) -> float:
        """The loss weight of head `task`: `loss_weights[task]`, else `default_loss_weight`."""
        return float(self.loss_weights.get(task, self.default_loss_weight))

    def task_names(self) -> tuple[str, ...] | None:
        """`tasks` as names ("artist,genre" -> ("artist", "genre")); None: every task."""
        return None if self.tasks is None else tuple(t.strip() for t in self.tasks.split(",") if t.strip())


def check(recipe: Recipe) -> None:
    """ValueError naming the first field (as its `train` flag) whose value is not accepted."""
    for f in dataclasses.fields(recipe):
        value, meta, name = getattr(recipe, f.name), f.metadata, "--" + f.name.replace("_", "-")
        if meta["choices"] and value not in meta["choices"]:
            valid = ", ".join(str(c) for c in meta["choices"])
            raise ValueError(f"{name} {value!r}: valid are {valid}")
        if meta["at_least"] is not None and value < meta["at_least"]:
            raise ValueError(f"{name} must be >= {meta['at_least']}, got {value}")
        if meta["above"] is not None and value <= meta["above"]:
            raise ValueError(f"{name} must be > {meta['above']}, got {value}")
    if not (recipe.coverage < 1 and recipe.unknown_tpr < 1):
        raise ValueError(f"--coverage and --unknown-tpr must be in (0, 1), got {recipe.coverage}, {recipe.unknown_tpr}")
    if recipe.tasks is not None and not re.fullmatch(r"\s*[a-z][a-z0-9_]*(\s*,\s*[a-z][a-z0-9_]*)*\s*", recipe.tasks):
        raise ValueError(f"--tasks {recipe.tasks!r}: comma-separated task names, e.g. artist,genre")
    bad = [k for k, v in (recipe.loss_weights or {}).items() if not isinstance(v, int | float) or v < 0]
    if bad:
        raise ValueError(f"loss_weights[{bad[0]!r}] must be a number >= 0, got {recipe.loss_weights[bad[0]]!r}")
    if recipe.batch_size % recipe.accumulate:
        raise ValueError(f"--batch-size {recipe.batch_size} must be divisible by --accumulate "
                         f"{recipe.accumulate} (each step takes batch-size / accumulate images)")


def choices(name: str) -> tuple:
    """The values Recipe field `name` accepts (empty: any)."""
    return next(f for f in dataclasses.fields(Recipe) if f.name == name).metadata["choices"]


def flag_fields() -> tuple[dataclasses.Field, ...]:
    """The Recipe fields that are `python -m zoo train` flags, in declaration order; with
    `--resume` each may be omitted (the run's value) and, given, must agree (but `epochs`)."""
    return tuple(f for f in dataclasses.fields(Recipe) if f.metadata["flag"])


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

