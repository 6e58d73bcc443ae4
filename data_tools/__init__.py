"""Dataset tools: one folder format (manifest.csv + images/) for every source.

    python -m data_tools synth --out data/synthetic
    python -m data_tools ingest art500k SRC... --out DIR
    python -m data_tools stats DIR

    from data_tools.manifest import read_manifest
    from data_tools.synth import ensure_default_dataset

Importing this package is cheap: no TensorFlow, no numpy.
"""
