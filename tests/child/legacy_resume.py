"""Resume the pre-restructure run folder of tests/fixtures/legacy_a31ce08 (torch backend)."""


def resume(run: str, data: str, epochs: int) -> dict:
    """`zoo train --resume --out RUN --epochs N --data DATA`; its exit code and what the last
    checkpoint holds: the model's class and its optimizer's update count."""
    import tests.child.legacy_backbone  # noqa: F401  (registers legacy_tiny)
    import zoo
    from zoo.cli import main
    from zoo.run_folder import RunFolder

    code = main(["train", "--resume", "--out", run, "--epochs", str(epochs), "--data", data])
    folder = RunFolder(run)
    checkpoint = zoo.load_model(folder.checkpoint_path(folder.read_state()))
    return {"code": code, "model": type(checkpoint).__name__,
            "iterations": int(checkpoint.optimizer.iterations)}
