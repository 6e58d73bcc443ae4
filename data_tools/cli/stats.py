"""summarise a dataset folder"""

from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("dir", type=Path)


def run(args) -> int:
    from data_tools.cli import console
    from data_tools.stats import print_stats

    print_stats(args.dir, console())
    return 0
