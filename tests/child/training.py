"""Child-process checks of tests/test_train.py (the backend is the child's KERAS_BACKEND)."""


def evaluate_without_movement_head(data: str, out: str) -> dict:
    """Build the model training builds for `data` (no movement head when the data has one
    movement), save it to OUT/model.keras and run `zoo evaluate` on it (val split)."""
    import keras

    import zoo
    from data_tools.labels import LabelSpace
    from data_tools.pipeline import load_rows
    from zoo.cli import main

    labels = LabelSpace.from_rows(load_rows(data))  # what training builds: no movement head
    model = zoo.build("vit_tiny16", tasks=labels, input_shape=(32, 32, 3))
    model.save(f"{out}/model.keras")
    code = main(["evaluate", f"{out}/model.keras", "--data", data, "--split", "val",
                 "--backend", keras.backend.backend()])
    return {"code": code, "heads": model.output_names}


def save_lambda_model(path: str) -> None:
    """A .keras file that carries code (a Lambda layer): safe loading must refuse it."""
    import keras

    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs)).save(path)
