"""Heatmaps of what a model looked at (occlusion sensitivity, one PNG per image)."""

from pathlib import Path

from zoo.cli import NO_FILE, file_failed, missing_files, need_model

NEEDS_BACKEND = True
MODEL_ARG = "model_file"


def add_arguments(p) -> None:
    p.add_argument("model_file", help="a saved zoo model (.keras) or an exported artifact")
    p.add_argument("images", nargs="+")
    p.add_argument("--out", required=True, help="folder for one PNG per image")
    p.add_argument("--task", default="artist", help="classification head to explain (artist, movement, genre, ...: any class head of the model)")
    p.add_argument("--target", help="class to explain (default: the top-1 class)")


def check(args) -> int | None:
    """The model file (one it refuses is exit 2, before file problems) and which images are
    missing, before the backend loads. When every image is missing they are reported and no
    model loads (exit 1)."""
    need_model(args.model_file)
    args.missing = missing_files(args.images)
    if len(args.missing) == len(set(args.images)):
        for image in args.images:
            file_failed(image, NO_FILE)
        return 1
    return None


def run(args) -> int:
    from rich.progress import track

    from data_tools.decode import BadImage, load_image
    from zoo.explain import class_heads, explain_pixels, render_png
    from zoo.inference.predictor import open_predictor

    predictor = open_predictor(args.model_file)
    if args.task not in class_heads(predictor):
        raise ValueError(f"--task {args.task}: {args.model_file} has no such classification head; "
                         f"it has {', '.join(class_heads(predictor))}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for image in track(args.images, description="explain", transient=True, disable=len(args.images) < 3):
        try:
            if image in args.missing:
                raise BadImage(NO_FILE)
            pixels = load_image(image, predictor.image_size)
        except BadImage as exc:
            file_failed(image, exc)
            failures += 1
            continue
        explanation = explain_pixels(predictor, pixels, task=args.task, target=args.target)
        target = out / f"{Path(image).stem}.png"
        target.write_bytes(render_png(pixels, explanation, title=Path(image).name))
        best = ", ".join(f"{c['name']} {c['p']:.1%}" for c in explanation.top)
        print(f"{target}  ({args.task}: {best})", flush=True)
    return 1 if failures else 0
