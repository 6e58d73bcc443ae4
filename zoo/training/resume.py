"""What `train --resume --out RUN` continues: the recipe, data and seed in RUN/config.json.

Flags given with `--resume` must agree with the record, so the original command
line plus `--resume` works; a flag that changes the recipe is refused, naming
it. The exception is `--epochs`: the run then trains to the new length, its
cosine schedule rebuilt for that length (the learning rate a run planned for
that many epochs would have at the current step; `loop.make_schedule`).
"""

import json
from dataclasses import dataclass
from pathlib import Path

from recipes import Recipe

# Recipe fields with a `train` flag of the same name (zoo.cli), the one list: each may be
# omitted with --resume (its value comes from config.json); given, it must agree.
RECIPE_FLAGS = ("model", "epochs", "image_size", "batch_size", "lr", "augment", "mix",
                "image_filter", "weights", "precision", "accumulate", "dropout",
                "freeze_epochs", "backbone_lr_scale", "layer_decay")


@dataclass
class Plan:
    """A resumable run: the recipe to continue (epochs possibly changed), its data and seed.

    `finished` is set when the run has trained all its epochs and written its
    test metrics, so there is nothing to do.
    """

    recipe: Recipe
    data_dir: Path
    seed: int
    epochs_done: int
    finished: bool


def plan(run_dir: Path, flags: dict, *, recipe_name, data, seed, backend) -> Plan | None:
    """The recorded run in `run_dir` checked against the given flags (None = not given).

    Returns None when the folder holds no run yet (`--resume` then starts it).
    Raises ValueError (one line) for a flag that changes the run.
    """
    from data_tools.manifest import manifest_hash
    from zoo.training.callbacks import read_state

    path = Path(run_dir) / "config.json"
    if not path.is_file():
        return None
    config = json.loads(path.read_text())
    recorded = Recipe(**config["recipe"])
    for name, value in flags.items():
        if value is not None and name != "epochs" and value != getattr(recorded, name):
            raise ValueError(f"--{name.replace('_', '-')} {value}: run {run_dir} was trained with "
                             f"{name}={getattr(recorded, name)!r}; a resumed run keeps its recipe "
                             f"(only --epochs may change); use a new --out to change it")
    if recipe_name is not None:
        import recipes

        given = recipes.load(recipe_name).replace(**{k: v for k, v in flags.items() if k != "epochs"})
        differ = [f for f, v in given.to_dict().items()
                  if f not in ("epochs", "warmup_epochs") and v != getattr(recorded, f)]
        if differ:
            raise ValueError(f"--recipe {recipe_name}: run {run_dir} was trained with another recipe "
                             f"({', '.join(differ)} differ); resume without --recipe")
    if backend != config["backend"]:
        raise ValueError(f"--backend {backend}: run {run_dir} was trained on {config['backend']}; "
                         f"resume it with --backend {config['backend']}")
    if seed is not None and seed != config["seed"]:
        raise ValueError(f"--seed {seed}: run {run_dir} was trained with seed {config['seed']}")
    data_dir = Path(data or config["data"]["dir"])
    if not (data_dir / "manifest.csv").is_file():
        raise ValueError(f"--data {data_dir}: no manifest.csv (the run was trained on {config['data']['dir']})")
    if manifest_hash(data_dir) != config["data"]["manifest_sha256"]:
        raise ValueError(f"--data {data_dir}: its manifest.csv changed since run {run_dir} started "
                         f"(config.json data.manifest_sha256); train a new run")
    state = read_state(run_dir)
    done = state["epoch"] if state else 0
    epochs = flags.get("epochs") or recorded.epochs
    if epochs < done:
        raise ValueError(f"--epochs {epochs}: run {run_dir} has already trained {done} epochs")
    finished = done >= epochs and (Path(run_dir) / "metrics.json").is_file()
    return Plan(recorded.replace(epochs=epochs), data_dir, config["seed"], done, finished)
