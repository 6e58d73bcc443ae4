"""Counted nouns in what the tools print: `plural(1, "epoch")` -> "1 epoch", `plural(3, "epoch")` -> "3 epochs"."""


def plural(count: float, noun: str, many: str | None = None) -> str:
    """`count` and `noun`, the noun in its plural (`many`, default noun + "s") unless count is 1.

    Floats print with `:g` (`plural(0.5, "epoch")` -> "0.5 epochs").
    """
    shown = f"{count:g}" if isinstance(count, float) else str(count)
    return f"{shown} {noun if count == 1 else many or noun + 's'}"
