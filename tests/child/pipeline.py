"""Checks of tests/test_pipeline.py run in a fresh process on one backend."""


def fit_dict_targets(data_dir: str) -> dict:
    """One epoch of a small model on make_dataset's dict targets and sample weights, then evaluate."""
    import keras

    from data_tools.labels import LabelSpace
    from data_tools.pipeline import load_rows, make_dataset

    labels = LabelSpace.from_rows(load_rows(data_dir))
    tasks = {t.name: len(t.classes) for t in labels.classification}
    size = (32, 32)
    train = make_dataset(data_dir, "train", labels, image_size=size, batch_size=4, shuffle=True,
                         augment="basic", mix="cutmix")
    val = make_dataset(data_dir, "val", labels, image_size=size, batch_size=4)

    inputs = keras.Input((*size, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(8, activation="relu")(x)
    outputs = {
        "artist": keras.layers.Dense(tasks["artist"], activation="softmax", name="artist")(x),
        "movement": keras.layers.Dense(tasks["movement"], activation="softmax", name="movement")(x),
        "year": keras.layers.Dense(1, name="year")(x),
    }
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer="adam",
        loss={
            "artist": keras.losses.CategoricalCrossentropy(),
            "movement": keras.losses.CategoricalCrossentropy(),
            "year": keras.losses.Huber(),
        },
    )
    history = model.fit(train, epochs=1, verbose=0)
    evaluated = model.evaluate(val, verbose=0, return_dict=True)
    return {"loss": history.history["loss"][0], "eval": evaluated}


def predict_equals_evaluate(src: str, out: str) -> dict:
    """Ingest the photos in src into out; per source file, predict (the user's file) vs evaluate (the ingested copy)."""
    import numpy as np

    import zoo
    from data_tools.build import BuildOptions
    from data_tools.decode import load_image
    from data_tools.ingest import ingest
    from data_tools.labels import LabelSpace
    from data_tools.pipeline import load_rows, make_dataset
    from zoo.inference import predict_files
    from zoo.inference.keras_predictor import KerasPredictor
    from zoo.training.evaluation import collect_predictions

    ingest("folder", [src], out, BuildOptions(min_per_artist=1), console=None)
    rows = load_rows(out)
    labels = LabelSpace.from_rows(rows)
    model = zoo.build("vit_tiny16", tasks=labels, input_shape=(32, 32, 3), dropout=0)
    result = {}
    for split in ("train", "val", "test"):
        split_rows = [r for r in rows if r["split"] == split]
        if not split_rows:
            continue
        ds = make_dataset(out, split, labels, image_size=(32, 32), batch_size=1, cache=False)
        preds = collect_predictions(model, ds)[0]["artist"]
        for r, p in zip(split_rows, preds, strict=True):
            original = src.rsplit("/", 1)[0] + "/" + r["source"]
            direct = model.predict_on_batch(load_image(original, (32, 32))[None])["artist"][0]
            line = next(predict_files(KerasPredictor(model), [original]))
            top = line["artists"][0]
            result[r["source"]] = {
                "diff": float(np.abs(np.asarray(direct) - p).max()),
                "top_matches": top["name"] == labels["artist"].classes[int(np.argmax(p))]
                and abs(top["p"] - float(np.max(p))) <= 5e-5,
            }
    return result
