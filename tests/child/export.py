"""Child-process code of tests/test_export.py."""


def save_vit_tiny(path: str, artists: list, movements: list) -> dict:
    """Save a mixed-bfloat16 vit_tiny16 at 32 px (artist, movement, year 1880 +- 40) to `path`."""
    import keras

    import zoo

    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    model = zoo.build("vit_tiny16", input_shape=(32, 32, 3), target_scaling={"year": (1880.0, 40.0)},
                      tasks={"artist": artists, "movement": movements, "year": "regression"})
    model.save(path)
    return {}


def save_model(path: str, name: str, artists: list) -> dict:
    """Save a float32 `name` backbone at 32 px with one artist head to `path`."""
    import zoo

    zoo.build(name, input_shape=(32, 32, 3), tasks={"artist": artists}).save(path)
    return {}
