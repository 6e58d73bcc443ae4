"""The README says what the code does: its ```python blocks run as written, its
`list_models()` comment and its introduction follow the registry (issue 23)."""

import re

from tests.conftest import ROOT, run_child
from zoo import registry

README = (ROOT / "README.md").read_text()


def python_blocks(text: str) -> list[str]:
    """The bodies of the ```python fenced blocks of `text`, in order."""
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.S | re.M)


def test_python_blocks_run(tmp_path):
    blocks = python_blocks(README)
    assert blocks, "the README has no ```python block"
    got = run_child("torch", "readme:run_blocks", blocks=blocks, workdir=str(tmp_path))
    assert got["backend"] == "jax"  # the block's first line chooses it, over the child's KERAS_BACKEND
    heads = {"artist": [2, 3], "movement": [2, 4], "year": [2, 1]}  # what the block's comments say
    assert got["out"] == heads and got["predicted"] == heads
    assert got["features"] == [None, 2048]
    assert "m.keras" in got["files"]


def test_list_models_comment_follows_the_registry():
    comment = re.search(r"zoo\.list_models\(\)\s*# \[(.*)\]", README).group(1)
    shown = re.findall(r"'(\w+)'", comment)
    names = registry.list_models()
    assert shown[0] == names[0] and shown[-1] == names[-1], (shown, names[:1], names[-1:])
    assert [n for n in names if n in shown] == shown  # the names it shows, in the list's order


def test_intro_names_every_family():
    intro = README[: README.index("\n## ")].lower()
    families = {spec for family_names in registry.BUILT_IN.values() for spec in family_names}
    missing = [f for f in sorted(families) if f.removesuffix("v2") not in intro]
    assert not missing, f"the README's introduction does not name {missing}"
