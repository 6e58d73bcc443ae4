"""What a call to `train()` begins from: a new run, or the resumed one in its run folder.

A new run resolves its recipe (warm-up fitted to the epochs), labels (every task the
manifest labels, or the recipe's `tasks`: one head each) and precision (`--precision auto`
follows this machine); config.json's "data" records the dataset's split protocol
(`data_tools.protocol`: "stable", or a published one such as "artgan-artist"). A resumed run takes all three
from its config.json (`RunFolder.resume_plan` refuses any change but `epochs`) and starts
after the last epoch its state.json committed; with no finished epoch it starts over.
"""

import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from data_tools.labels import LabelSpace
from data_tools.plural import plural
from recipes import Recipe
from zoo.run_folder import RunFolder, RunState
from zoo.training import precision
from zoo.training.distribute import Cluster
from zoo.training.precision import Precision


@dataclass
class Start:
    """The run `train()` trains: recipe, labels, precision, config.json and where it starts."""

    recipe: Recipe
    labels: LabelSpace
    precision: Precision
    config: dict  # what config.json holds from now on
    state: RunState | None  # the resumed run's last committed epoch; None: from epoch 0
    rows: list[dict]  # the manifest rows (all splits)
    input_shape: tuple[int, int, int]

    @property
    def initial_epoch(self) -> int:
        return self.state.epoch if self.state else 0


def plan(folder: RunFolder, recipe: Recipe, data_dir, *, resume: bool, backend: str, seed: int,
         cluster: Cluster, clock) -> Start:
    """The `Start` of `train(recipe, ...)` in `folder`; ValueError (one line) for a run that
    cannot start: unavailable weights (before any data is read), a folder that already holds
    a run without `resume`, a resumed run with another recipe, data, seed or backend."""
    import zoo
    from data_tools.pipeline import load_rows

    shape = zoo.check_input_shape(recipe.model, (recipe.image_size, recipe.image_size, 3))
    state = folder.read_state() if resume else None
    if not state:
        from zoo.training import finetune

        finetune.check_weights(recipe, shape)  # offline ImageNet etc.: one line before any data is read
    with clock.timed("data"):
        rows = load_rows(data_dir)
    if not resume and folder.holds_run():
        raise ValueError(f"run folder {folder.path} already holds a run; pass --resume or another --out")
    if state:
        recipe = folder.resume_plan(recipe, data=data_dir, backend=backend).recipe
        config = folder.resumed_config(recipe, state.epoch)
        labels = LabelSpace.from_json(config["labels"])  # also the pre-restructure record
        return Start(recipe, labels, recorded_precision(config, recipe), config, state, rows, shape)
    recipe = fit_warmup(recipe)
    labels = run_labels(rows, recipe)
    chosen = precision.resolve(recipe.precision)
    config = new_config(recipe, backend, data_dir, seed, labels, cluster, chosen)
    return Start(recipe, labels, chosen, config, None, rows, shape)


def run_labels(rows: list[dict], recipe: Recipe) -> LabelSpace:
    """The heads of a new run: every task of the manifest `rows`, or only `recipe.tasks`
    (ValueError naming a task the data does not label). With outlier exposure the primary
    task's "Unknown Artist" rows are no class (their target is uniform)."""
    labels = LabelSpace.from_rows(rows, out_of_set=recipe.outlier_exposure > 0)
    names = recipe.task_names()
    return labels if names is None else labels.restricted(names)


def fit_warmup(recipe: Recipe) -> Recipe:
    """`recipe` with its cosine warm-up cut to half the run when it would take longer,
    so a short run still reaches the peak learning rate; says so on stderr."""
    if recipe.schedule != "cosine" or recipe.warmup_epochs <= recipe.epochs / 2:
        return recipe
    warmup = recipe.epochs / 2
    print(f"warning: {plural(recipe.epochs, 'epoch')} {'is' if recipe.epochs == 1 else 'are'} too few for "
          f"the recipe's {plural(float(recipe.warmup_epochs), 'warm-up epoch')}; warm-up shortened to "
          f"{warmup:g} so the peak lr {recipe.lr:g} is reached",
          file=sys.stderr, flush=True)
    return recipe.replace(warmup_epochs=warmup)


def recorded_precision(config: dict, recipe: Recipe) -> Precision:
    """A resumed run's recorded precision: its checkpoint computes in that policy, whatever
    this machine's `auto` says (runs that recorded none: `recipe.precision` resolved here)."""
    if "precision" not in config:
        return precision.resolve(recipe.precision)
    kept = config["precision"]
    name = {v: k for k, v in precision.POLICIES.items()}[kept["policy"]]
    return Precision(kept["requested"], name, kept["policy"], f"recorded: {kept['reason']}")


def new_config(recipe, backend, data_dir, seed, labels, cluster, chosen: Precision) -> dict:
    """config.json of a new run."""
    import keras

    from data_tools import protocol
    from data_tools.manifest import manifest_hash

    lib = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}[backend]
    return {
        "recipe": recipe.to_dict(),
        "backend": backend,
        "seed": seed,
        "num_devices": cluster.num_devices,
        "num_processes": cluster.num_processes,
        "data": {"dir": str(Path(data_dir).resolve()), "manifest_sha256": manifest_hash(data_dir),
                 "protocol": protocol.read(data_dir)},
        "labels": labels.to_json(),
        "versions": {"python": platform.python_version(), "keras": keras.__version__,
                     lib: __import__(lib).__version__},
        "precision": {"requested": chosen.requested, "policy": chosen.policy, "reason": chosen.reason},
    }
