"""Backbone features of a split, computed once and cached on disk (the probe recipe, k-NN).

A frozen backbone's features depend only on the model's weights, the input size and the
images, so they are cached like `data_tools.pipeline`'s pixel cache: a file under
`DATA/.cache/` whose name hashes the manifest rows (path + sha1) of the split, the image
size and the feature extractor's weights. Changing any of them never reads a stale file.

`features(...)` returns float32 `(n, dim)` features and the split's `targets` / `weights`
dicts (numpy, as `make_dataset` batches them: `(n, classes)` one-hot, `(n, 1)`, `(n,)`).
"""

import hashlib
from pathlib import Path

import keras
import numpy as np
from rich.progress import Progress

from data_tools.files import atomic_path
from data_tools.labels import LabelSpace


def weights_digest(model: keras.Model) -> str:
    """sha1 of every weight of `model` (names, shapes, values): changes with any weight."""
    h = hashlib.sha1()
    for v in model.weights:
        h.update(v.path.encode())
        h.update(np.ascontiguousarray(keras.ops.convert_to_numpy(v.value)).tobytes())
    return h.hexdigest()


def cache_file(data_dir, split: str, image_size, digest: str) -> Path:
    """`DATA/.cache/features-<split>-<hash>.npz`, the hash over rows, size and weights."""
    from data_tools.pipeline import load_rows

    rows = load_rows(data_dir, split)
    h = hashlib.sha1(f"{tuple(image_size)}|{digest}".encode())
    for r in rows:
        h.update(f"{r['path']}\t{r['sha1']}\n".encode())
    return Path(data_dir) / ".cache" / f"features-{split}-{h.hexdigest()[:16]}.npz"


def features(extractor: keras.Model, data_dir, split: str, labels: LabelSpace, *, image_size,
             batch_size: int = 32, cache: bool = True):
    """(features `(n, dim)`, targets, weights) of `split` through `extractor` (pixels -> features),
    read from the cache when it holds them, else computed (one pass, a progress bar) and cached."""
    from data_tools.pipeline import make_dataset

    path = cache_file(data_dir, split, image_size, weights_digest(extractor)) if cache else None
    if path is not None and path.is_file():
        with np.load(path) as f:
            return f["features"], _unpack(f, "t:"), _unpack(f, "w:")
    ds = make_dataset(data_dir, split, labels, image_size=tuple(image_size), batch_size=batch_size)
    feats, targets, weights = [], {}, {}
    with Progress(transient=True) as bar:
        task = bar.add_task(f"{split} features", total=None)
        for images, y, w in ds.as_numpy_iterator():
            feats.append(np.asarray(extractor.predict_on_batch(images), dtype=np.float32))
            for store, batch in ((targets, y), (weights, w)):
                for k, v in batch.items():
                    store.setdefault(k, []).append(np.asarray(v))
            bar.advance(task, len(images))
    out = np.concatenate(feats)
    targets = {k: np.concatenate(v) for k, v in targets.items()}
    weights = {k: np.concatenate(v) for k, v in weights.items()}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, features=out, **{f"t:{k}": v for k, v in targets.items()},
                     **{f"w:{k}": v for k, v in weights.items()})
    return out, targets, weights


def _unpack(f, prefix: str) -> dict:
    return {k[len(prefix):]: f[k] for k in f.files if k.startswith(prefix)}
