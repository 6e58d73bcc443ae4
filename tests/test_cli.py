"""The command line's shape (issue 17): `--help`, `list` and `train --help` load no backend;
train flags are generated from the Recipe fields, which validate themselves; the registry's
names need no keras."""

import json
import time
from pathlib import Path

import pytest

import recipes
from tests.conftest import run_child
from tests.test_explain import texture_model  # noqa: F401  (the shared session fixture)
from zoo import registry as zoo_registry


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["train", "--help"], ["compare", "--help"]])
def test_help_and_list_import_no_backend(argv):
    started = time.perf_counter()
    got = run_child("jax", "startup:zoo_command", argv=argv)
    wall = time.perf_counter() - started
    assert got["code"] == 0 and got["heavy"] == [], got
    print(json.dumps({"argv": argv, "in_process_s": got["seconds"], "process_s": wall}))
    if argv == ["list"]:
        header, *rows, recipe_line = got["stdout"].splitlines()
        models = [row.split()[0] for row in rows]
        assert header.startswith("models") and "resnet50" in models and "vit_tiny16" in models
        assert models == zoo_registry.list_models()
        sources = {row.split()[0]: row.split()[2] for row in rows}  # issue 19: each one's pretrained source
        assert sources["dinov2_small14"] == "hf://facebook/dinov2-small"
        assert sources["vit_small16"] == "hf://timm/vit_small_patch16_224.augreg_in21k"
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


def test_bare_command_and_help_list_every_command():
    """Issue 23: `python -m zoo` and `--help` name the launcher and list all the commands."""
    from zoo.cli import COMMANDS

    for argv in ([], ["--help"]):
        got = run_child("jax", "startup:zoo_command", argv=argv)
        assert got["code"] == 0 and got["heavy"] == [], got
        assert got["stdout"].startswith("usage: python -m zoo"), got["stdout"]
        assert "`python -m zoo COMMAND ...`" in got["stdout"]
        listed = {line.split()[0] for line in got["stdout"].splitlines() if line.startswith("    ")}
        assert listed >= set(COMMANDS) and len(COMMANDS) == 14, got["stdout"]  # 14 with calibrate (issue 20)


@pytest.mark.parametrize("argv, message", [
    (["evaluate", "missing.keras", "--data", "/nope"], "model file not found: missing.keras"),
    (["evaluate", "MODEL", "--data", "/does-not-exist"], "--data /does-not-exist: no manifest.csv"),
    (["embed", "MODEL", "--data", "/does-not-exist", "--out", "e.npz"], "no manifest.csv"),
    (["predict", "missing.keras", "x.jpg"], "model file not found: missing.keras"),
    (["explain", "missing.keras", "x.jpg", "--out", "heat"], "model file not found: missing.keras"),
    (["similar", "missing.npz", "x.jpg"], "missing.npz: no such file"),
    (["train", "--image-size", "7"], "resnet50: image size 7x7 not accepted; needs sides >= 32"),
    (["train", "--model", "vit_tiny16", "--image-size", "40"], "divisible by 16"),
    (["train", "--data", "/does-not-exist"], "--data /does-not-exist: no such folder"),
])
def test_mistakes_answer_before_any_backend_loads(argv, message, tmp_path):
    """Issue 23: one `error:` line, exit 2, nothing announced, and no keras/backend imported."""
    model = tmp_path / "model.keras"
    model.write_bytes(b"never opened")
    argv = [str(model) if a == "MODEL" else a for a in argv]
    got = run_child("jax", "cli_errors:zoo_mistake", argv=argv)
    assert got["code"] == 2 and got["stdout"] == "", got
    assert got["stderr"].count("\n") == 1 and got["stderr"].startswith("error: ") and message in got["stderr"], got
    assert got["heavy"] == [], got


@pytest.mark.parametrize("command", ["predict", "explain"])
def test_only_missing_images_answer_before_any_backend_loads(command, tmp_path):
    """Issue 23: `predict MODEL missing.jpg` reports the file (the per-file rule, exit 1)
    without loading a backend or the model; a model file carrying code is still refused
    first (exit 2), read from the zip without keras."""
    model = tmp_path / "model.keras"
    model.write_bytes(b"never opened")
    extra = ["--out", str(tmp_path / "heat")] if command == "explain" else []
    images = [str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg")]
    got = run_child("jax", "cli_errors:zoo_mistake", argv=[command, str(model), *images, *extra])
    assert got["code"] == 1 and got["heavy"] == [], got
    assert got["stderr"].splitlines() == [f"error: {image}: no such file" for image in images], got
    if command == "predict":
        assert [json.loads(line) for line in got["stdout"].splitlines()] == [
            {"image": image, "error": "no such file"} for image in images]
    lambda_file = tmp_path / "lambda.keras"
    run_child("torch", "training:save_lambda_model", path=str(lambda_file))
    got = run_child("jax", "cli_errors:zoo_mistake", argv=[command, str(lambda_file), *images, *extra])
    assert got["code"] == 2 and got["heavy"] == [] and got["stdout"] == "", got
    assert got["stderr"].count("\n") == 1 and "Lambda" in got["stderr"], got


@pytest.mark.parametrize("command", ["predict", "explain"])
def test_missing_images_are_reported_per_file(command, texture_model, tmp_path):  # noqa: F811
    """The per-file rule (README "Training"): each file it cannot read as `error: FILE: why`
    on stderr (predict: also its JSON line, in order), the others done, exit 1."""
    good = str(sorted((texture_model.parent / "data" / "images" / "checks").glob("*.png"))[0])
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    images = [str(tmp_path / "a.jpg"), good, str(broken)]
    extra = ["--out", str(tmp_path / "heat")] if command == "explain" else []
    got = run_child("jax", "cli_errors:zoo_mistake", argv=[command, str(texture_model), *images, *extra])
    assert got["code"] == 1, got
    errors = got["stderr"].splitlines()
    assert errors[0] == f"error: {images[0]}: no such file" and len(errors) == 2, got
    assert errors[1].startswith(f"error: {broken}: cannot read image"), got
    if command == "predict":
        lines = [json.loads(line) for line in got["stdout"].splitlines()]
        assert [line["image"] for line in lines] == images and "artists" in lines[1]
        assert lines[0]["error"] == "no such file" and "cannot read image" in lines[2]["error"]
    else:
        assert [p.name for p in (tmp_path / "heat").glob("*.png")] == [f"{Path(good).stem}.png"], got


def test_input_rules_match_the_registered_specs():
    """`registry.INPUT_RULES` (keras-free size checks) agrees with every family's specs."""
    from zoo import registry

    for name in registry.list_models():
        spec = registry.get(name)
        assert registry.input_rule(name) == (spec.min_size, spec.patch_size), name
