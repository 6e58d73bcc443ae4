"""Zoo side of tests/test_hub_backbones.py: keras-hub backbones built from transformers folders.

Inputs are what `tests.child.hub_reference.save` wrote; outputs are max absolute
differences of the pooled features `(2, width)` against transformers' `pooler_output`.
"""

from pathlib import Path

import numpy as np

from tests.child.hub_reference import CASES


def compare(root: str, cases: list[str], make: bool = False) -> dict:
    """{case: max |zoo - transformers|} on this process's backend; `make`: save first (torch)."""
    import zoo

    if make:
        from tests.child.hub_reference import save

        save(root, cases)
    out = {}
    for case in cases:
        name, kind, _, size, _ = CASES[case]
        ref = np.load(Path(root) / f"{case}.npz")
        net = zoo.backbone(name, input_shape=(size, size, 3), weights=str(Path(root) / kind))
        got = np.asarray(net.predict(ref["images"], verbose=0), dtype=np.float32)
        out[case] = float(np.abs(got - ref["pooled"]).max())
    return out
