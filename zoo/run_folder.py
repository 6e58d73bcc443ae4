"""The run folder: every file a training run writes, and what `--resume` may change.

    RUN/config.json                  recipe, backend, seed, data (dir, manifest sha256), labels,
                                     versions, precision, bn_momentum_used (the BatchNorm momentum
                                     the recipe's, e.g. "auto", gave), and the `resumed` record
    RUN/checkpoints/epoch_NNNN.keras the last finished epoch: model + optimizer state
    RUN/checkpoints/best.weights.npz the best epoch's weights (`model.get_weights()`, no optimizer)
    RUN/checkpoints/state.json       the commit point: epoch, checkpoint name, best, history, plateau
    RUN/history.csv                  one row per epoch (`epoch` 1-based)
    RUN/model.keras                  the best epoch, without optimizer state
    RUN/metrics{-SPLIT}.json, RUN/confusion_matrix{-SPLIT}.png (artist; other class tasks
                                     confusion_TASK{-SPLIT}.png), RUN/reliability{-SPLIT}.png:
                                     test (no suffix) or `zoo evaluate`
    RUN/curves.png, RUN/timings.json, RUN/tensorboard/

Every file is written to a temp file beside it and then renamed (`data_tools.files`),
so a run killed at any moment resumes from the checkpoint its state.json names.
A resumed run keeps its recipe, data, seed and backend; only `epochs` may change.
Importable without keras (the CLI reads the recorded backend before one loads).
"""

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from data_tools.files import atomic_path, write_atomic
from data_tools.labels import PRIMARY
from data_tools.plural import plural
from recipes import Recipe

RESUMABLE = ("epochs",)  # the recipe fields a resumed run may change
# Resolved when the run starts (`training.plan.fit_warmup` may shorten it): the record's value stays.
RESOLVED = ("warmup_epochs",)


@dataclass
class RunState:
    """`checkpoints/state.json`: the last committed epoch of a run."""

    epoch: int  # epochs finished (1-based count)
    checkpoint: str  # file name in checkpoints/ of that epoch's model + optimizer
    best: float  # best monitored value so far (inf before one improved)
    history: list[dict] = field(default_factory=list)  # one dict of logs per epoch, `epoch` 1-based
    plateau: dict | None = None  # `ResumablePlateau.state()` when the schedule is plateau

    def to_json(self) -> dict:
        out = {"epoch": self.epoch, "checkpoint": self.checkpoint, "best": self.best, "history": self.history}
        return out if self.plateau is None else {**out, "plateau": self.plateau}

    def learning_rate(self, default: float) -> float:
        """The learning rate logged at the last epoch (a plateau may have cut it), else `default`."""
        return self.history[-1].get("learning_rate", default) if self.history else default


@dataclass
class ResumePlan:
    """A resumable run: the recipe to continue (epochs possibly changed), its data and seed.

    `finished`: the run has trained all its epochs and written its test metrics.
    """

    recipe: Recipe
    data_dir: Path
    seed: int
    epochs_done: int
    finished: bool


class RunFolder:
    """The files of one training run under `path` (see the module docstring)."""

    def __init__(self, path):
        self.path = Path(path)

    # ------------------------------------------------------------ where things are
    config_path = property(lambda self: self.path / "config.json")
    checkpoints = property(lambda self: self.path / "checkpoints")
    state_path = property(lambda self: self.checkpoints / "state.json")
    best_weights_path = property(lambda self: self.checkpoints / "best.weights.npz")
    history_csv = property(lambda self: self.path / "history.csv")
    model_path = property(lambda self: self.path / "model.keras")
    curves_path = property(lambda self: self.path / "curves.png")
    timings_path = property(lambda self: self.path / "timings.json")
    tensorboard = property(lambda self: self.path / "tensorboard")

    def metrics_path(self, suffix: str = "") -> Path:
        """`metrics{suffix}.json`: training's test split has no suffix, `zoo evaluate` "-SPLIT"."""
        return self.path / f"metrics{suffix}.json"

    def confusion_path(self, task: str = PRIMARY, suffix: str = "") -> Path:
        """`confusion_matrix{suffix}.png` for the artist task, `confusion_{task}{suffix}.png` otherwise."""
        name = "confusion_matrix" if task == PRIMARY else f"confusion_{task}"
        return self.path / f"{name}{suffix}.png"

    def reliability_path(self, suffix: str = "") -> Path:
        """`reliability{suffix}.png`: the reliability diagram of every classification head."""
        return self.path / f"reliability{suffix}.png"

    def checkpoint_path(self, state: RunState) -> Path:
        return self.checkpoints / state.checkpoint

    @staticmethod
    def checkpoint_name(epoch: int) -> str:
        """The checkpoint file of 1-based `epoch`: `epoch_0003.keras`."""
        return f"epoch_{epoch:04d}.keras"

    # ------------------------------------------------------------ records
    def holds_run(self) -> bool:
        return self.config_path.is_file()

    def read_config(self) -> dict:
        return json.loads(self.config_path.read_text())

    def write_config(self, config: dict) -> None:
        write_atomic(self.config_path, json.dumps(config, indent=1))

    def recorded_backend(self) -> str | None:
        """The backend name config.json records, or None (no folder, unreadable, none recorded)."""
        try:
            backend = self.read_config().get("backend")
        except (OSError, ValueError, AttributeError):
            return None
        return backend if isinstance(backend, str) else None

    def read_state(self) -> RunState | None:
        """The committed state, or None if no epoch has finished."""
        if not self.state_path.exists():
            return None
        data = json.loads(self.state_path.read_text())
        return RunState(data["epoch"], data["checkpoint"], data.get("best", float("inf")), data.get("history", []),
                        data.get("plateau"))

    def write_state(self, state: RunState) -> None:
        write_atomic(self.state_path, json.dumps(state.to_json(), indent=1))

    def write_history(self, rows: list[dict]) -> None:
        """history.csv from per-epoch dicts (columns: union of keys, first row's order first)."""
        columns = list(dict.fromkeys(k for row in rows for k in row))
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, columns)
        writer.writeheader()
        writer.writerows(rows)
        write_atomic(self.history_csv, text.getvalue())

    def is_finished(self, epochs: int) -> bool:
        """`epochs` are trained and the test metrics written."""
        state = self.read_state()
        return state is not None and state.epoch >= epochs and self.metrics_path().is_file()

    # ------------------------------------------------------------ checkpoints (keras models)
    def save_checkpoint(self, model, epoch: int) -> str:
        """`checkpoints/epoch_NNNN.keras` (model + optimizer) of 1-based `epoch`; returns its name."""
        name = self.checkpoint_name(epoch)
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.checkpoints / name) as tmp:
            model.save(tmp)
        return name

    def prune_checkpoints(self, keep: str) -> None:
        """Delete every epoch checkpoint but `keep` (after state.json names it)."""
        for old in self.checkpoints.glob("epoch_*.keras"):
            if old.name != keep:
                old.unlink()

    def save_best(self, model) -> None:
        """`model.get_weights()` to best.weights.npz. Hand-written: Keras 3's `save_weights`
        also stores the optimizer's variables, as large as a full Adam checkpoint."""
        import numpy as np

        with atomic_path(self.best_weights_path) as tmp, open(tmp, "wb") as f:
            np.savez(f, *model.get_weights())

    def load_best(self, model) -> None:
        """Set `model`'s weights from best.weights.npz."""
        import numpy as np

        with np.load(self.best_weights_path) as arrays:
            model.set_weights([arrays[f"arr_{i}"] for i in range(len(arrays.files))])

    def save_model(self, model) -> None:
        """model.keras (the caller gives the model its best weights, without an optimizer)."""
        with atomic_path(self.model_path) as tmp:
            model.save(tmp)

    # ------------------------------------------------------------ what --resume may change
    def changed_fields(self, recipe: Recipe) -> list[str]:
        """The fields in which `recipe` differs from the recorded one, bar `RESUMABLE` and
        `RESOLVED`: the one rule of what a resumed run may change."""
        recorded = self.recorded_recipe()
        return [name for name, value in recipe.to_dict().items()
                if name not in RESUMABLE + RESOLVED and value != getattr(recorded, name)]

    def recorded_recipe(self) -> Recipe:
        """The recorded recipe (fields added to Recipe since the run began: their defaults)."""
        return Recipe(**self.read_config()["recipe"])

    def resumed_recipe(self, recipe: Recipe, *, flags: dict | None = None, recipe_name=None) -> Recipe:
        """The recorded recipe with `recipe.epochs`, or ValueError (one line) when `recipe`
        changes anything else; the message names the first given flag (`flags`: field ->
        value, None = not given) that does, else `--recipe recipe_name`."""
        differ = self.changed_fields(recipe)
        recorded = self.recorded_recipe()
        given = [name for name in differ if (flags or {}).get(name) is not None]
        if given:
            name = given[0]
            raise ValueError(f"--{name.replace('_', '-')} {flags[name]}: run {self.path} was trained with "
                             f"{name}={getattr(recorded, name)!r}; a resumed run keeps its recipe "
                             f"(only --epochs may change); use a new --out to change it")
        if differ:
            source = f"--recipe {recipe_name}: " if recipe_name else ""
            raise ValueError(f"{source}run {self.path} was trained with another recipe ({', '.join(differ)} "
                             f"differ); a resumed run keeps its recipe, only --epochs may change")
        return recorded.replace(epochs=recipe.epochs)

    def resume_plan(self, recipe: Recipe | None = None, *, flags: dict | None = None, recipe_name=None,
                    data=None, seed=None, backend: str) -> ResumePlan | None:
        """The recorded run checked against what was given (None = not given): `recipe`
        (train()), or the `train` flags (field -> value) and `--recipe recipe_name` (CLI).

        Returns None when the folder holds no run yet (`--resume` then starts it).
        Raises ValueError (one line) for anything that changes the run but `--epochs`.
        """
        from data_tools.manifest import manifest_hash

        if not self.holds_run():
            return None
        config, recorded = self.read_config(), self.recorded_recipe()
        flags = {k: v for k, v in (flags or {}).items() if v is not None}
        if recipe is None:
            import recipes

            recipe = (recipes.load(recipe_name) if recipe_name else recorded).replace(**flags)
            recipe = recipe.replace(epochs=flags.get("epochs", recorded.epochs))
        recipe = self.resumed_recipe(recipe, flags=flags, recipe_name=recipe_name)
        if backend != config["backend"]:
            raise ValueError(f"--backend {backend}: run {self.path} was trained on {config['backend']}; "
                             f"resume it with --backend {config['backend']}")
        if seed is not None and seed != config["seed"]:
            raise ValueError(f"--seed {seed}: run {self.path} was trained with seed {config['seed']}")
        data_dir = Path(data or config["data"]["dir"])
        if not (data_dir / "manifest.csv").is_file():
            raise ValueError(f"--data {data_dir}: no manifest.csv (the run was trained on {config['data']['dir']})")
        if manifest_hash(data_dir) != config["data"]["manifest_sha256"]:
            raise ValueError(f"--data {data_dir}: its manifest.csv changed since run {self.path} started "
                             f"(config.json data.manifest_sha256); train a new run")
        state = self.read_state()
        done = state.epoch if state else 0
        if recipe.epochs < done:
            raise ValueError(f"--epochs {recipe.epochs}: run {self.path} has already trained "
                             f"{plural(done, 'epoch')}")
        return ResumePlan(recipe, data_dir, config["seed"], done, self.is_finished(recipe.epochs))

    def resumed_config(self, recipe: Recipe, at_epoch: int) -> dict:
        """config.json for the run resumed at `at_epoch` with `recipe` (`resumed_recipe`): a
        changed recipe is recorded, with a `resumed` entry saying when and to how many epochs."""
        config = self.read_config()
        if config["recipe"] != recipe.to_dict():
            config["resumed"] = [*config.get("resumed", []), {"at_epoch": at_epoch, "epochs": recipe.epochs}]
            config["recipe"] = recipe.to_dict()
        return config
