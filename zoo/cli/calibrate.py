"""Recalibrate a trained model on a split: temperatures, conformal sets, unknown-artist threshold.

Fits one temperature per classification head (minimising the NLL), the conformal thresholds
of the prediction sets and the year interval, and the unknown-artist threshold on DIR's
split (default val), and writes them into the model (MODEL itself, or --out). Options not
given keep the model's stored calibration settings (else the recipe defaults).
"""

from pathlib import Path

from data_tools.manifest import SPLITS
from data_tools.usage import UsageError
from zoo.cli import need_data, need_model

NEEDS_BACKEND = True
MODEL_ARG = "model_file"
_OPTIONS = ("calibrate", "coverage", "conformal", "class_conditional", "unknown_tpr", "unknown_score")


def add_arguments(p) -> None:
    p.add_argument("model_file", help="a saved zoo model (.keras)")
    p.add_argument("--data", required=True, help="dataset folder (manifest.csv) to calibrate on")
    p.add_argument("--split", default="val", choices=SPLITS, help="split to fit on (%(default)s)")
    p.add_argument("--out", help="write the calibrated model here (default: replace MODEL)")
    p.add_argument("--calibrate", choices=("temperature", "none"), help="none: temperatures 1 (raw softmax)")
    p.add_argument("--coverage", type=float, help="set / interval coverage (default 0.9)")
    p.add_argument("--conformal", choices=("lac", "aps", "raps"), help="set method (default lac)")
    p.add_argument("--class-conditional", action="store_true", default=None,
                   help="one threshold per class (coverage per artist)")
    p.add_argument("--unknown-tpr", type=float, help="share of known works accepted (default 0.95)")
    p.add_argument("--unknown-score", choices=("msp", "energy"), help="unknown-artist score (default energy)")
    p.add_argument("--batch-size", type=int, default=32)


def check(args) -> None:
    """The model (a .keras file), the dataset, the options, before the backend loads."""
    need_model(args.model_file)
    if Path(args.model_file).suffix != ".keras":
        raise UsageError(f"{args.model_file}: calibrate needs a .keras model (export after calibrating)")
    need_data(args.data)
    for name in ("coverage", "unknown_tpr"):
        value = getattr(args, name)
        if value is not None and not 0 < value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be in (0, 1), got {value}")
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1, got {args.batch_size}")


def options(args, stored: dict | None) -> dict:
    """The recipe fields of `_OPTIONS`: the flag, else the model's stored setting, else the default."""
    import recipes

    stored = stored or {}
    kept = {"calibrate": stored.get("calibrate"), "coverage": stored.get("coverage"),
            "conformal": stored.get("method"), "class_conditional": stored.get("class_conditional"),
            "unknown_tpr": stored.get("unknown", {}).get("tpr"), "unknown_score": stored.get("unknown", {}).get("score")}
    given = {name: getattr(args, name) if getattr(args, name) is not None else kept[name] for name in _OPTIONS}
    return recipes.Recipe().replace(**given)


def run(args) -> int:
    import zoo
    from data_tools.files import atomic_path
    from data_tools.pipeline import load_rows, make_dataset
    from zoo.training.calibrate import calibrate, calibration_options

    if not load_rows(args.data, args.split):
        raise UsageError(f"--data {args.data}: the {args.split} split has no images")
    model = zoo.load_model(args.model_file, compile=False)
    recipe = options(args, model.calibration)
    ds = make_dataset(args.data, args.split, model.label_space, image_size=model.image_size,
                      batch_size=args.batch_size)
    record = calibrate(model, ds, **calibration_options(recipe))
    out = Path(args.out or args.model_file)
    with atomic_path(out) as tmp:
        model.save(tmp)
    _print(record, out)
    return 0


def _print(record: dict, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"calibration ({record['method']}, coverage {record['coverage']:g})")
    for column in ("head", "temperature", "threshold"):
        table.add_column(column, justify="right" if column != "head" else "left")
    for head, fitted in record["sets"].items():
        qhat = fitted["qhat"]
        table.add_row(head, f"{record['temperature'].get(head, 1.0):.3f}",
                      "per class" if isinstance(qhat, list) else f"{qhat:.4f}")
    for head, fitted in record["intervals"].items():
        table.add_row(head, "-", f"+- {fitted['half_width']:.1f}")
    if "unknown" in record:
        spec = record["unknown"]
        table.add_row(f"unknown ({spec['score']})", "-", f"{spec['thresholds'][spec['score']]:.4f}")
    console = Console()
    console.print(table)
    console.print(f"model: {out}", soft_wrap=True, highlight=False)
