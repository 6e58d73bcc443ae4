"""Top-k artists and every other head (movement, year, genre, ...) per image (JSON lines)."""

import json

from data_tools.usage import UsageError
from zoo.cli import NO_FILE, file_failed, missing_files, need_model

NEEDS_BACKEND = True
MODEL_ARG = "model_file"


def add_arguments(p) -> None:
    p.add_argument("model_file", help="a saved zoo model (.keras) or an exported artifact")
    p.add_argument("images", nargs="+")
    p.add_argument("--top-k", type=int, default=5)


def check(args) -> int | None:
    """Before the backend: --top-k, the model file (one it refuses is exit 2, before file
    problems), which images are missing. When every image is missing they are reported and
    no model loads (exit 1)."""
    if args.top_k < 1:
        raise UsageError(f"--top-k must be >= 1, got {args.top_k}")
    need_model(args.model_file)
    args.missing = missing_files(args.images)
    if len(args.missing) == len(set(args.images)):
        for image in args.images:
            _report({"image": image, "error": NO_FILE})
        return 1
    return None


def _report(line: dict) -> None:
    """One JSON line on stdout; a file that failed also as `error: FILE: why` on stderr."""
    print(json.dumps(line, ensure_ascii=False), flush=True)
    if "error" in line:
        file_failed(line["image"], line["error"])


def run(args) -> int:
    from zoo.inference.prediction import predict_files
    from zoo.inference.predictor import open_predictor

    predictor = open_predictor(args.model_file)
    found = [image for image in args.images if image not in args.missing]
    lines = predict_files(predictor, found, top_k=args.top_k)  # in the order of `found`
    failures = 0
    for image in args.images:
        line = {"image": image, "error": NO_FILE} if image in args.missing else next(lines)
        failures += "error" in line
        _report(line)
    return 1 if failures else 0
