"""Metrics + confusion matrix of a saved model."""

import json
from pathlib import Path

NEEDS_BACKEND = True
MODEL_ARG = "model_file"


def add_arguments(p) -> None:
    p.add_argument("model_file")
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--out", help="folder for metrics-SPLIT.json and confusion_matrix-SPLIT.png "
                   "(default: beside the model)")
    p.add_argument("--batch-size", type=int, default=32)


def run(args) -> int:
    import zoo
    from data_tools.pipeline import make_dataset
    from zoo.training.evaluation import evaluate_into
    from zoo.training.report import print_metrics

    model = zoo.load_model(args.model_file, compile=False)
    labels = model.label_space
    size = model.image_size
    ds = make_dataset(args.data, args.split, labels, image_size=size, batch_size=args.batch_size)
    out = Path(args.out or Path(args.model_file).parent)
    out.mkdir(parents=True, exist_ok=True)
    metrics = evaluate_into(model, ds, labels, out, split=args.split, suffix=f"-{args.split}")
    print_metrics(metrics, title=f"{args.split} metrics of {args.model_file}")
    print(json.dumps(metrics))
    return 0
