"""data_tools checks run in a fresh process (tests/test_synth.py, tests/test_split_stats.py)."""

import sys


def default_dataset(root: str) -> str:
    """Build (or reuse) the embedded dataset at `root`; its path."""
    from data_tools.synth import ensure_default_dataset

    return str(ensure_default_dataset(root))


def light_imports() -> dict:
    """Whether importing the data_tools package, its manifest, CLI and images modules loads TF/keras."""
    import data_tools  # noqa: F401
    import data_tools.cli.ingest as cli_ingest
    import data_tools.images as images
    import data_tools.manifest  # noqa: F401

    return {"same_max_pixels": cli_ingest.MAX_PIXELS == images.MAX_PIXELS,
            "tensorflow": "tensorflow" in sys.modules, "keras": "keras" in sys.modules}
