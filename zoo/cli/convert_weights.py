"""timm ViT checkpoint -> zoo weights file."""

# TEMPORARY pass-through (restructure in progress): the library module still parses its own
# arguments; `zoo.cli.main` hands it the raw argv.
ADD_HELP = False


def add_arguments(p) -> None:
    pass


def run_argv(argv: list[str]) -> int:
    from zoo.models.convert import main

    return int(main(argv) or 0)
