"""Similar works: pooled features of a collection, searched by cosine similarity.

`embed_rows` turns a dataset's manifest rows into one feature vector each (the input of
the model's task heads, `KerasPredictor.embed`, so any zoo model works) and
`write_index` stores them; `Index` loads the file and ranks works by cosine similarity.

FILE (.npz): `ids`, `paths`, `artists` (N,) str; `features` (N, D) float32; `model` (the
.keras file's path relative to the .npz file's folder, so the run folder may move; files
of older versions hold an absolute path); `input_size` (2,) int. `Index.model` resolves it,
falling back to a `model.keras` beside the .npz.
"""

import os
import sys
from pathlib import Path

import numpy as np

from data_tools.files import atomic_path

BATCH = 32


def embed_rows(predictor, data_dir, rows: list[dict], progress=iter) -> tuple[list[dict], np.ndarray]:
    """(the rows whose image decoded, their `(N, D)` float32 features); an unreadable image
    is skipped with a warning line on stderr. `progress` wraps the row iterator."""
    from data_tools.decode import BadImage, load_image

    kept, vectors, batch = [], [], []
    for row in progress(rows):
        try:
            batch.append(load_image(Path(data_dir) / row["path"], predictor.image_size))
            kept.append(row)
        except BadImage as exc:
            print(f"warning: {row['path']}: {exc}; skipped", file=sys.stderr)
        if len(batch) == BATCH:
            vectors.append(predictor.embed(np.stack(batch)))
            batch = []
    if batch:
        vectors.append(predictor.embed(np.stack(batch)))
    if not kept:
        raise ValueError(f"--data {data_dir}: no readable image")
    return kept, np.concatenate(vectors)


def write_index(out, rows: list[dict], features: np.ndarray, model_file, input_size) -> None:
    """The embeddings file (module docstring), written whole, then renamed into place."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        np.savez(tmp, ids=np.array([r["image_id"] for r in rows]), paths=np.array([r["path"] for r in rows]),
                 artists=np.array([r["artist"] for r in rows]), features=features,
                 model=np.array(os.path.relpath(Path(model_file).resolve(), out.resolve().parent)),
                 input_size=np.array(input_size))


def model_of(index_path, stored: str) -> Path:
    """The .keras file of the embeddings file `index_path` whose `model` entry is `stored`:
    `stored` (relative to the file's folder, or absolute) if it exists, else a `model.keras`
    beside the file, else `stored` resolved (the caller says it is gone)."""
    folder = Path(index_path).resolve().parent
    recorded = folder / stored  # an absolute `stored` stays itself
    if recorded.is_file():
        return recorded
    neighbour = folder / "model.keras"
    return neighbour if neighbour.is_file() else recorded


class Index:
    """A loaded embeddings file; `closest` ranks its works by cosine similarity."""

    def __init__(self, path):
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as f:
                self.ids, self.paths, self.artists = (f[k].astype(str) for k in ("ids", "paths", "artists"))
                self.features = f["features"].astype(np.float32)
                self.model = str(model_of(path, str(f["model"])))
                self.input_size = tuple(int(v) for v in f["input_size"])
        except (OSError, KeyError, ValueError) as exc:
            raise ValueError(f"{path}: not an embeddings file from `zoo embed` ({exc})".splitlines()[0]) from None
        norms = np.linalg.norm(self.features, axis=1, keepdims=True)
        self.unit = self.features / np.maximum(norms, 1e-12)

    @property
    def dim(self) -> int:
        return self.features.shape[1]

    def vector_of(self, image_id: str) -> np.ndarray:
        hits = np.flatnonzero(self.ids == image_id)
        if not hits.size:
            raise KeyError(image_id)
        return self.features[hits[0]]

    def closest(self, vector: np.ndarray, k: int = 10, exclude: str | None = None) -> list[dict]:
        """The `k` works most similar to `vector` (D,): [{"image_id", "artist", "path", "similarity"}]."""
        unit = np.asarray(vector, np.float32) / max(float(np.linalg.norm(vector)), 1e-12)
        sims = self.unit @ unit
        if exclude is not None:
            sims = np.where(self.ids == exclude, -np.inf, sims)
        order = np.argsort(-sims)[:k]
        return [{"image_id": self.ids[i], "artist": self.artists[i], "path": self.paths[i],
                 "similarity": round(float(sims[i]), 4)} for i in order if np.isfinite(sims[i])]
