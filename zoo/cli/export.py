"""Export a zoo model with Keras' model.export and verify it in its own runtime."""

import sys
from pathlib import Path

NEEDS_BACKEND = True
MODEL_ARG = "model_file"
FORMATS = ("onnx", "tf_saved_model", "openvino", "litert")  # == zoo.inference.export.FORMATS


def add_arguments(p) -> None:
    p.add_argument("model_file", help="a saved zoo model (.keras)")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--out", required=True, help="artifact path (.onnx, .xml, .tflite; a folder for "
                   "tf_saved_model); missing folders are created")


def run(args) -> int:
    from zoo.inference.export import VerificationError, check_request, export

    if not Path(args.model_file).is_file():
        raise ValueError(f"{args.model_file}: model file not found")
    check_request(args.format, args.out, args.backend, args.model_file)
    from rich.console import Console

    with Console(stderr=True).status(f"exporting {args.model_file} to {args.format} on {args.backend}"):
        try:
            report = export(args.model_file, args.format, args.out)
        except VerificationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(f"{report['artifact']}: verified by {report['runtime']} on {report['images']}: {deltas(report)}; "
          f"metadata in {report['sidecar']}")
    return 0


def deltas(report: dict) -> str:
    """'max |delta| artist 1.2e-07, ... (<= 0.0001)', plus, for a mixed-precision model,
    'vs float32 copy; ... vs the model as trained (mixed_bfloat16)'."""
    def listed(diffs):
        return ", ".join(f"{k} {v:.1e}" for k, v in diffs.items())

    line = f"max |delta| {listed(report['max_abs_diff'])} (<= {report['tolerance']:g})"
    trained = report.get("as_trained")
    if trained is None:
        return line
    return (f"{line} vs float32 copy; {listed(trained['max_abs_diff'])} vs the model as trained "
            f"({trained['dtype_policy']})")
