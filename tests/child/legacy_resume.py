"""Resume the pre-restructure run folder of tests/fixtures/legacy_a31ce08 (torch backend)."""


def register_legacy_tiny() -> None:
    """Register `legacy_tiny`, the tiny backbone MADE_BY.py trained (same layers and names)."""
    import keras

    from zoo.registry import register

    @register("legacy_tiny", family="resnet", preprocessing="caffe")
    def tiny(input_shape, weights):
        x = inputs = keras.Input(input_shape)
        x = keras.layers.Conv2D(8, 3, strides=2, name="conv1")(x)
        x = keras.layers.BatchNormalization(name="bn1")(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
        return keras.Model(inputs, x, name="legacy_tiny")


def resume(run: str, data: str, epochs: int) -> dict:
    """`zoo train --resume --out RUN --epochs N --data DATA`; its exit code and what the last
    checkpoint holds: the model's class and its optimizer's update count."""
    register_legacy_tiny()
    import zoo
    from zoo.cli import main
    from zoo.run_folder import RunFolder

    code = main(["train", "--resume", "--out", run, "--epochs", str(epochs), "--data", data])
    folder = RunFolder(run)
    checkpoint = zoo.load_model(folder.checkpoint_path(folder.read_state()))
    return {"code": code, "model": type(checkpoint).__name__,
            "iterations": int(checkpoint.optimizer.iterations)}
