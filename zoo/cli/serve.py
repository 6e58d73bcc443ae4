"""JSON API and web page for a saved model or an exported ONNX file."""

import sys
from pathlib import Path

NEEDS_BACKEND = True
MODEL_ARG = "model_file"


def add_arguments(p) -> None:
    p.add_argument("model_file", help="MODEL.keras (--runtime keras) or an exported MODEL.onnx (--runtime onnx)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--runtime", choices=["keras", "onnx"], default="keras")
    p.add_argument("--embeddings", help="FILE.npz from `zoo embed`: enables /similar")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--max-body-mb", type=float, default=20.0, help="upload size limit")


def run(args) -> int:
    if not Path(args.model_file).is_file():
        raise ValueError(f"{args.model_file}: no such model file")
    suffix = Path(args.model_file).suffix
    if args.runtime == "onnx" and suffix != ".onnx":
        raise ValueError(f"--runtime onnx serves an exported .onnx file (python -m zoo export "
                         f"{args.model_file} --format onnx --out MODEL.onnx), got {args.model_file}")
    if args.runtime == "keras" and suffix != ".keras":
        raise ValueError(f"--runtime keras serves a saved .keras model, got {args.model_file} "
                         f"(an exported .onnx file: --runtime onnx)")
    import uvicorn

    from zoo.inference.predictor import open_predictor
    from zoo.serving.app import create_app, runtime_backend
    from zoo.similar import Index

    index = Index(args.embeddings) if args.embeddings else None
    predictor = open_predictor(args.model_file)
    if index is not None and hasattr(predictor, "embed"):
        dim = int(predictor.features.output_shape[-1])
        if dim != index.dim:
            raise ValueError(f"--embeddings {args.embeddings}: {index.dim} features, but "
                             f"{args.model_file} makes {dim}; embed with this model")
    app = create_app(predictor, index=index, max_body=int(args.max_body_mb * 2**20), top_k=args.top_k)
    print(f"serving {predictor.name} ({args.runtime}, {runtime_backend(predictor)}) on "
          f"http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
