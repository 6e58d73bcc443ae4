"""The probe recipe's training: heads on cached frozen features, then a whole zoo model.

    pixels -> frozen backbone (once per image, `feature_cache`) -> (n, dim) features
    features -> dropout -> TaskHeads   (the model's own head layers, trained by `fit`)

The heads are the `ArtistModel`'s layers, so after `fit` the full model (backbone +
trained heads) is saved as `model.keras` and evaluated on the test pixels like any run.
The best epoch (validation loss, or training loss without validation) is kept
(`EarlyStopping(restore_best_weights=True)` with no early stop). A probe run is short, so
it has no `--resume`: an interrupted one is run again (the features stay cached).
"""

import json
import time

import keras
import numpy as np
import tensorflow as tf  # backend-edge: tf.data feeds every backend (as data_tools.pipeline)

import zoo
from zoo.run_folder import RunFolder
from zoo.training import evaluation, feature_cache, plots
from zoo.training.plan import plan
from zoo.training.timing import PhaseClock


class HeadModel(keras.Model):
    """Features `(batch, dim)` -> the heads of `model` (shared layers); `.heads` as ArtistModel's."""

    def __init__(self, model, dim: int):
        features = keras.Input((dim,), name="features")
        x = features
        dropout = next((layer for layer in model.layers if layer.name == "head_dropout"), None)
        if dropout is not None:
            x = dropout(x)
        super().__init__(features, {name: head(x) for name, head in model.heads.items()}, name="probe_heads")
        self.heads = dict(model.heads)


def _dataset(feats, targets, weights, batch: int, shuffle: bool, seed: int):
    ds = tf.data.Dataset.from_tensor_slices((feats, targets, weights))
    if shuffle:
        ds = ds.shuffle(len(feats), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch).prefetch(tf.data.AUTOTUNE)


def train(recipe, *, backend: str, data_dir, run_dir, resume: bool = False, seed: int = 0, verbose="auto",
          cluster=None):
    """Train the heads of `recipe.model` on its frozen features; writes a run folder
    (config, history, model.keras, test metrics) and returns a `loop.RunResult`."""
    from zoo.training.distribute import Cluster
    from zoo.training.loop import RunResult, compile_model

    if resume:
        raise ValueError("a probe run has no --resume; run it again (its features stay cached)")
    started, clock = time.time(), PhaseClock()
    folder = RunFolder(run_dir)
    start = plan(folder, recipe, data_dir, resume=False, backend=backend, seed=seed,
                 cluster=cluster or Cluster(num_devices=1), clock=clock)
    recipe, size = start.recipe, (start.recipe.image_size, start.recipe.image_size)
    folder.path.mkdir(parents=True, exist_ok=True)
    folder.write_config({**start.config, "probe": True})
    keras.utils.set_random_seed(seed)
    model = zoo.build(recipe.model, tasks=start.labels, input_shape=start.input_shape,
                      weights=None if str(recipe.weights).lower() == "none" else recipe.weights,
                      dropout=recipe.dropout)
    model.backbone.trainable = False
    with clock.timed("data"):
        split = {s: feature_cache.features(model.feature_extractor(), data_dir, s, start.labels, image_size=size,
                                           batch_size=recipe.batch_size) for s in ("train", "val")}
    heads = HeadModel(model, split["train"][0].shape[1])
    steps = -(-len(split["train"][0]) // recipe.batch_size)
    compile_model(heads, recipe, steps)
    has_val = recipe.validate and len(split["val"][0]) > 0
    monitor = "val_loss" if has_val else "loss"
    best = keras.callbacks.EarlyStopping(monitor=monitor, patience=recipe.epochs, restore_best_weights=True)
    history = heads.fit(_dataset(*split["train"], recipe.batch_size, True, seed),
                        validation_data=_dataset(*split["val"], recipe.batch_size, False, seed) if has_val else None,
                        epochs=recipe.epochs, callbacks=[best], shuffle=False,
                        verbose=0 if verbose == "auto" else verbose)
    rows = [{"epoch": i + 1, **{k: float(v[i]) for k, v in history.history.items()}}
            for i in range(len(history.history[monitor]))]
    folder.write_history(rows)
    (folder.path / "probe.json").write_text(json.dumps({"best_epoch": int(np.argmin(history.history[monitor])) + 1,
                                                         "train_features": len(split["train"][0])}) + "\n")
    model.backbone.trainable = True  # saved as usual; frozen only while the heads trained
    folder.save_model(model)
    from data_tools.pipeline import make_dataset

    test = make_dataset(data_dir, "test", start.labels, image_size=size, batch_size=recipe.batch_size)
    metrics = evaluation.evaluate_into(model, test, start.labels, folder.path, split="test",
                                       extra={"params": int(model.count_params()), "probe": True})
    plots.plot_curves(rows, folder.curves_path, heads=list(model.heads))
    return RunResult(folder.path, metrics, len(rows), time.time() - started)
