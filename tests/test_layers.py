"""The layering of pyproject.toml [tool.importlinter] holds (issue 17), one test per contract,
and every backend import in zoo/ sits at a marked edge."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT, backend_env

CONTRACTS = [c["id"] for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]]
BACKEND_IMPORT = re.compile(r"^\s*(import (tensorflow|jax|torch)\b|from (tensorflow|jax|torch)\b)")


@pytest.mark.parametrize("contract", CONTRACTS)
def test_import_contract_is_kept(contract):
    lint = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(lint), "--no-cache", "--contract", contract], cwd=ROOT,
                          env=backend_env("jax"), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_backend_imports_are_marked():
    """`# backend-edge: <why>` on the import line or the line above it."""
    unmarked = []
    for path in sorted((ROOT / "zoo").rglob("*.py")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            marked = "# backend-edge:" in line or (i > 0 and "# backend-edge:" in lines[i - 1])
            if BACKEND_IMPORT.match(line) and not marked:
                unmarked.append(f"{path.relative_to(ROOT)}:{i + 1}: {line.strip()}")
    assert not unmarked, "\n".join(unmarked)
