"""Export a zoo model with Keras' model.export and verify it in its own runtime."""

import sys
from pathlib import Path

NEEDS_BACKEND = True
MODEL_ARG = "model_file"
FORMATS = ("onnx", "tf_saved_model", "openvino", "litert")  # == zoo.inference.export.FORMATS


def add_arguments(p) -> None:
    p.add_argument("model_file", help="a saved zoo model (.keras)")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--out", required=True, help="artifact path (.onnx, .xml, .tflite; a folder for tf_saved_model)")


def run(args) -> int:
    from zoo.inference.export import VerificationError, check_request, export

    check_request(args.format, args.out, args.backend)
    if not Path(args.model_file).is_file():
        raise ValueError(f"{args.model_file}: model file not found")
    from rich.console import Console

    with Console(stderr=True).status(f"exporting {args.model_file} to {args.format} on {args.backend}"):
        try:
            report = export(args.model_file, args.format, args.out)
        except VerificationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    diffs = ", ".join(f"{k} {v:.1e}" for k, v in report["max_abs_diff"].items())
    print(f"{report['artifact']}: verified by {report['runtime']} on {report['images']}: "
          f"max |delta| {diffs} (<= {report['tolerance']:g}); metadata in {report['sidecar']}")
    return 0
