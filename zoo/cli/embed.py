"""Pooled feature vectors of a dataset."""

# TEMPORARY pass-through (restructure in progress): the library module still parses its own
# arguments; `zoo.cli.main` hands it the raw argv.
ADD_HELP = False


def add_arguments(p) -> None:
    pass


def run_argv(argv: list[str]) -> int:
    from zoo.similar import main_embed

    return int(main_embed(argv) or 0)
