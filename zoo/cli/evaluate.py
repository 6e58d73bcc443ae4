"""Metrics, confusion matrix and reliability diagram of a saved model (or an exported artifact) on a split."""

import json
from pathlib import Path

from data_tools.manifest import SPLITS
from data_tools.usage import UsageError
from zoo.cli import need_data, need_model

NEEDS_BACKEND = True
MODEL_ARG = "model_file"


def add_arguments(p) -> None:
    p.add_argument("model_file", help="a saved zoo model (.keras) or an exported artifact")
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="test", choices=SPLITS)
    p.add_argument("--out", help="folder for metrics-SPLIT.json and confusion_matrix-SPLIT.png "
                   "(default: beside the model)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--unknown", metavar="DIR2", help="works by artists outside the model (a dataset folder or "
                   "a folder of images): reports unknown_auroc and unknown_fpr95")
    p.add_argument("--tta", default="none", choices=("none", "flip"),
                   help="test-time augmentation: flip = mean of the image and its mirror")
    p.add_argument("--knn", type=int, default=0, metavar="K",
                   help="also a K-nearest-neighbour classifier on the frozen features of the training "
                   "split (knn_artist_top1, ...; .keras only; DINO's K=20), no training")


def check(args) -> None:
    """The model, the dataset and --batch-size, before the backend loads."""
    need_model(args.model_file)
    need_data(args.data)
    if args.unknown is not None:
        from zoo.training.unknown_data import unknown_paths

        if not Path(args.unknown).is_dir():
            raise UsageError(f"--unknown {args.unknown}: no such folder")
        args.unknown_files = unknown_paths(args.unknown)
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.knn < 0 or (args.knn and not str(args.model_file).endswith(".keras")):
        raise UsageError(f"--knn {args.knn}: needs K >= 1 and a .keras model (its features)")


def run(args) -> int:
    from data_tools.pipeline import make_dataset
    from zoo.inference.predictor import open_predictor
    from zoo.training import tta
    from zoo.training.evaluation import evaluate_into
    from zoo.training.report import print_metrics
    from zoo.training.unknown_data import ImageBatches

    predictor = open_predictor(args.model_file)
    knn = {}
    if args.knn:
        from zoo.training.knn import knn_metrics

        knn = knn_metrics(predictor.model, args.data, args.split, predictor.label_space, k=args.knn,
                          batch_size=args.batch_size)
    labels = predictor.label_space
    ds = make_dataset(args.data, args.split, labels, image_size=predictor.image_size, batch_size=args.batch_size)
    unknown = None if args.unknown is None else ImageBatches(args.unknown_files, predictor.image_size,
                                                             args.batch_size)
    out = Path(args.out or Path(args.model_file).parent)
    out.mkdir(parents=True, exist_ok=True)
    # "backend": the Keras backend that ran the model, or the artifact's runtime
    metrics = evaluate_into(tta.wrap(predictor, args.tta), ds, labels, out, split=args.split,
                            suffix=f"-{args.split}", extra={"backend": getattr(predictor, "backend", predictor.runtime),
                                                           "tta": args.tta, **knn}, unknown=unknown)
    print_metrics(metrics, title=f"{args.split} metrics", source=args.model_file)
    print(json.dumps(metrics))
    return 0
