"""Pooled feature vectors of a dataset (.npz) for `similar` and `serve --embeddings`."""

from pathlib import Path

from zoo.cli import need_data, need_model

NEEDS_BACKEND = True
MODEL_ARG = "model_file"


def add_arguments(p) -> None:
    p.add_argument("model_file", help="a saved zoo model (.keras)")
    p.add_argument("--data", required=True, help="dataset folder with manifest.csv")
    p.add_argument("--out", required=True, help="embeddings file to write (.npz)")


def check(args) -> None:
    """The --out name, the model and the dataset, before the backend loads."""
    if Path(args.out).suffix != ".npz":
        raise ValueError(f"--out {args.out}: the embeddings file must end in .npz")
    need_model(args.model_file)
    need_data(args.data)


def run(args) -> int:
    out = Path(args.out)
    from rich.progress import track

    from data_tools.manifest import read_manifest
    from zoo.inference.predictor import open_predictor
    from zoo.similar import embed_rows, write_index

    rows = read_manifest(args.data)
    predictor = open_predictor(args.model_file)
    kept, features = embed_rows(predictor, args.data, rows, progress=lambda it: track(
        it, description=f"embed {len(rows)} images", transient=True))
    write_index(out, kept, features, args.model_file, predictor.image_size)
    print(f"{out}: {len(kept)} images x {features.shape[1]} features ({predictor.name})")
    return 0
