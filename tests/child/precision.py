"""Checks of tests/test_precision.py run in a fresh process on one backend."""


def bf16_run(data: str, run: str) -> dict:
    """Train vit_tiny16 in bf16 with --accumulate 2, resume to 2 epochs; precision record, dtypes, optimizer counts."""
    import contextlib
    import io
    import json
    import math

    import keras
    import numpy as np

    import recipes
    from zoo.training.loop import train
    from zoo.training.precision import read_facts

    facts = read_facts()
    recipe = recipes.load("quickstart").replace(model="vit_tiny16", image_size=32, batch_size=16,
                                                 epochs=1, augment="none", precision="bfloat16",
                                                 accumulate=2)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = train(recipe, backend=keras.backend.backend(), data_dir=data, run_dir=run,
                       verbose=0)
        recorded = recipes.Recipe(**json.load(open(run + "/config.json"))["recipe"])
        train(recorded.replace(epochs=2), backend=keras.backend.backend(), data_dir=data,
              run_dir=run, resume=True, verbose=0)
    config = json.load(open(run + "/config.json"))
    model = keras.saving.load_model(run + "/model.keras", compile=False)
    state = json.load(open(run + "/checkpoints/state.json"))
    optimizer = keras.saving.load_model(run + "/checkpoints/" + state["checkpoint"]).optimizer
    outputs = model(np.zeros((2, 32, 32, 3), "float32"))
    return {
        "kind": facts.kind, "flags": len(facts.cpu_flags), "capability": facts.gpu_capability,
        "precision": config["precision"], "printed": out.getvalue(),
        "finite": all(math.isfinite(v) for k, v in result.metrics.items()
                      if k in ("artist_top1", "movement_top1", "year_mae")),
        "year_mae": result.metrics["year_mae"],
        "optimizer": [optimizer.gradient_accumulation_steps, int(optimizer.iterations),
                      int(optimizer._iterations)],
        "out_dtypes": sorted({str(keras.backend.standardize_dtype(o.dtype)) for o in outputs.values()}),
        "policies": sorted({layer.dtype_policy.name for layer in model._flatten_layers()}),
    }
