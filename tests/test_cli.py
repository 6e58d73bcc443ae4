"""The command line's shape (issue 17): `--help`, `list` and `train --help` load no backend;
train flags are generated from the Recipe fields, which validate themselves; the registry's
names need no keras."""

import json
import time

import pytest

import recipes
from tests.conftest import run_child


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["train", "--help"], ["compare", "--help"]])
def test_help_and_list_import_no_backend(argv):
    started = time.perf_counter()
    got = run_child("jax", "startup:zoo_command", argv=argv)
    wall = time.perf_counter() - started
    assert got["code"] == 0 and got["heavy"] == [], got
    print(json.dumps({"argv": argv, "in_process_s": got["seconds"], "process_s": wall}))
    if argv == ["list"]:
        models, recipe_line = got["stdout"].splitlines()
        assert "resnet50" in models.split() and "vit_tiny16" in models.split()
        assert recipe_line.split()[1:] == recipes.list_recipes()


def test_every_recipe_flag_is_a_train_flag():
    """One flag per `recipes.flag_fields()` field, with the field's help and choices."""
    from data_tools.usage import Parser
    from zoo.cli import train

    parser = Parser()
    train.add_arguments(parser)
    actions = {a.dest: a for a in parser._actions if a.option_strings and a.const is None}
    for field in recipes.flag_fields():
        action = actions[field.name]
        assert action.option_strings == ["--" + field.name.replace("_", "-")]
        assert action.help == field.metadata["help"]
        assert (action.choices or []) == [c for c in field.metadata["choices"] if c is not None]
    args = parser.parse_args(["--mixed-precision", "--weights", "none", "--image-size", "48"])
    assert (args.precision, args.weights, args.image_size) == ("bfloat16", "none", 48)
    assert {f.name for f in recipes.flag_fields()} >= {"epochs", "image_size", "batch_size", "lr",
                                                        "precision", "accumulate", "weights"}


@pytest.mark.parametrize("changes, message", [
    ({"epochs": 0}, "--epochs must be >= 1, got 0"),
    ({"image_size": 0}, "--image-size must be >= 1"),
    ({"lr": 0.0}, "--lr must be > 0"),
    ({"optimizer": "lamb"}, "--optimizer 'lamb': valid are adam, adamw, sgd"),
    ({"mix": "blend"}, "--mix 'blend'"),
    ({"batch_size": 6, "accumulate": 4}, "--batch-size 6 must be divisible by --accumulate 4"),
])
def test_recipe_refuses_bad_values(changes, message):
    with pytest.raises(ValueError, match=message):
        recipes.Recipe().replace(**changes)


def test_registry_table_matches_the_family_modules():
    """`zoo.registry.BUILT_IN` (what `list` answers from) names what the family modules register."""
    got = run_child("torch", "registry:registered_names")
    assert got["registered"] == got["listed"]
    assert got["vits"] == ["vit_base16", "vit_large16", "vit_small16", "vit_tiny16"]
