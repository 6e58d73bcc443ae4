"""Layer depth by block order, the rule the family files share (layer-wise lr decay).

As in BEiT/MAE fine-tuning (`get_layer_id_for_vit`): the learning rate of a variable
at depth d is `lr * decay ** (top - d)`, `top = max(depths)`. The stem is depth 0,
the i-th block (in the network's order) depth i + 1, and everything after the last
block (final norm, top convolution, the heads) the top depth, blocks + 1.
"""

import re
from collections.abc import Callable


def ordered_blocks(block: str, stem: str) -> Callable[[list[str]], dict[str, int]]:
    """A `layer_depth` rule: variable paths -> depths.

    `block`: regex whose groups, compared as (int if digits else str) tuples, order
    the blocks (e.g. r"^block(\\d+)_" for ViT); `stem`: regex of the depth-0 variables.
    """
    block_re, stem_re = re.compile(block), re.compile(stem)

    def key(match):
        return tuple(int(g) if g.isdigit() else g for g in match.groups())

    def depths(paths: list[str]) -> dict[str, int]:
        order = sorted({key(m) for p in paths if (m := block_re.search(p))})
        index = {k: i + 1 for i, k in enumerate(order)}
        top = len(order) + 1
        out = {}
        for p in paths:
            if stem_re.search(p):
                out[p] = 0
            elif m := block_re.search(p):
                out[p] = index[key(m)]
            else:
                out[p] = top
        return out

    return depths
