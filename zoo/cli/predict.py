"""Top-k artists, movement and year per image (JSON lines)."""

import json

from data_tools.usage import UsageError

NEEDS_BACKEND = True
MODEL_ARG = "model_file"


def add_arguments(p) -> None:
    p.add_argument("model_file", help="a saved zoo model (.keras) or an exported artifact")
    p.add_argument("images", nargs="+")
    p.add_argument("--top-k", type=int, default=5)


def run(args) -> int:
    if args.top_k < 1:
        raise UsageError(f"--top-k must be >= 1, got {args.top_k}")
    from zoo.inference.prediction import predict_files
    from zoo.inference.predictor import open_predictor

    predictor = open_predictor(args.model_file)
    failures = 0
    for line in predict_files(predictor, args.images, top_k=args.top_k):
        failures += "error" in line
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 1 if failures else 0
