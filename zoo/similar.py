"""Similar works: pooled features of a collection, searched by cosine similarity.

`python -m zoo embed MODEL.keras --data DIR --out FILE.npz` writes one feature vector per
manifest row; `python -m zoo similar FILE.npz IMAGE -k 10` embeds IMAGE with the model
recorded in FILE and lists the closest works. The features are the input of the model's
task heads (the pooled backbone output), found from the saved graph, so any zoo model works.

FILE (.npz): `ids`, `paths`, `artists` (N,) str; `features` (N, D) float32; `model` (the
absolute path of the .keras file); `input_size` (2,) int.
"""

import json
import sys
from pathlib import Path

import numpy as np

BATCH = 32


def feature_model(model):
    """`(B, H, W, 3)` pixels 0..255 -> `(B, D)` features: the tensor feeding the task heads."""
    import keras

    inputs = {id(model.get_layer(name).input) for name in model.output_names}
    if len(inputs) != 1:
        raise ValueError(f"{model.name}: its heads do not share one feature input; cannot embed")
    head_input = model.get_layer(model.output_names[0]).input
    return keras.Model(model.input, head_input, name=f"{model.name}_features")


def embed(features, pixels: np.ndarray) -> np.ndarray:
    """`(B, H, W, 3)` float32 pixels -> `(B, D)` float32 features."""
    return np.asarray(features.predict_on_batch(np.asarray(pixels, np.float32)), np.float32)


class Index:
    """A loaded embeddings file; `closest` ranks its works by cosine similarity."""

    def __init__(self, path):
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as f:
                self.ids, self.paths, self.artists = (f[k].astype(str) for k in ("ids", "paths", "artists"))
                self.features = f["features"].astype(np.float32)
                self.model = str(f["model"])
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


def main_embed(argv) -> int:
    """`python -m zoo embed MODEL.keras --data DIR --out FILE.npz`."""
    from zoo.cli import Parser

    p = Parser(prog="python -m zoo embed", description="pooled feature vectors of a dataset (.npz)")
    p.add_argument("model_file")
    p.add_argument("--data", required=True, help="dataset folder with manifest.csv")
    p.add_argument("--out", required=True, help="embeddings file to write (.npz)")
    p.add_argument("--backend", help="jax|tensorflow|torch (chosen before keras loads)")
    args = p.parse_args(argv)
    out = Path(args.out)
    if out.suffix != ".npz":
        raise ValueError(f"--out {out}: the embeddings file must end in .npz")

    from rich.progress import track

    import zoo
    from data_tools.manifest import read_manifest
    from data_tools.preprocess import BadImage, load_image

    rows = read_manifest(args.data)
    model = zoo.load_model(args.model_file, compile=False)
    features = feature_model(model)
    size = tuple(model.input_shape[1:3])
    kept, vectors, batch = [], [], []
    for row in track(rows, description=f"embed {len(rows)} images", transient=True):
        try:
            batch.append(load_image(Path(args.data) / row["path"], size))
            kept.append(row)
        except BadImage as exc:
            print(f"warning: {row['path']}: {exc}; skipped", file=sys.stderr)
        if len(batch) == BATCH:
            vectors.append(embed(features, np.stack(batch)))
            batch = []
    if batch:
        vectors.append(embed(features, np.stack(batch)))
    if not kept:
        raise ValueError(f"--data {args.data}: no readable image")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.tmp.npz")  # written whole, then renamed into place
    np.savez(tmp, ids=np.array([r["image_id"] for r in kept]), paths=np.array([r["path"] for r in kept]),
             artists=np.array([r["artist"] for r in kept]), features=np.concatenate(vectors),
             model=np.array(str(Path(args.model_file).resolve())), input_size=np.array(size))
    tmp.replace(out)
    print(f"{out}: {len(kept)} images x {vectors[0].shape[1]} features ({model.name})")
    return 0


def main_similar(argv) -> int:
    """`python -m zoo similar FILE.npz IMAGE [-k 10] [--json]`."""
    from zoo.cli import Parser

    p = Parser(prog="python -m zoo similar", description="closest works by cosine similarity")
    p.add_argument("embeddings")
    p.add_argument("image")
    p.add_argument("-k", type=int, default=10, help="how many works to list")
    p.add_argument("--json", action="store_true", help="one JSON line per work instead of a table")
    p.add_argument("--backend", help="jax|tensorflow|torch (chosen before keras loads)")
    args = p.parse_args(argv)
    if args.k < 1:
        raise ValueError(f"-k must be >= 1, got {args.k}")
    index = Index(args.embeddings)
    if not Path(index.model).is_file():
        raise ValueError(f"{args.embeddings}: its model {index.model} is gone; run `zoo embed` again")

    import zoo
    from data_tools.preprocess import load_image

    pixels = load_image(args.image, index.input_size)  # BadImage: one line via zoo.cli
    model = zoo.load_model(index.model, compile=False)
    results = index.closest(embed(feature_model(model), pixels[None])[0], args.k)
    if args.json:
        for r in results:
            print(json.dumps(r, ensure_ascii=False))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"works closest to {args.image}")
    for column in ("#", "similarity", "image_id", "artist", "path"):
        table.add_column(column)
    for rank, r in enumerate(results, 1):
        table.add_row(str(rank), f"{r['similarity']:.3f}", r["image_id"], r["artist"], r["path"])
    Console(width=120).print(table)
    return 0
