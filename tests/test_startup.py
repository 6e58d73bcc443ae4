"""Quiet start (issue 10): stderr exactly as a user gets it, with the native logging
variables unset (tests/conftest.py `backend_env`): one `error:` line per mistake on
every backend, TensorFlow's C++ start-up notices only when the user asks for them."""

import json

import pytest

from data_tools.startup import _NOISE
from tests.conftest import BACKENDS, run_cli


@pytest.fixture(scope="module")
def empty_dataset(tmp_path_factory):
    empty = tmp_path_factory.mktemp("empty")
    (empty / "manifest.csv").write_text("image_id,path,artist,year,movement,split,sha1,source\n")
    return empty


def one_error_line(proc) -> str:
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


# The empty dataset gets as far as the input pipeline: keras, the backend and TensorFlow
# (tf.data, so on every backend) are all loaded when the error is printed. The TensorFlow
# backend runs with oneDNN off as on an AMD CPU, where TF prints other notices; the other
# two see TF's default (oneDNN on).
@pytest.mark.parametrize("backend", BACKENDS)
def test_user_mistake_is_one_line_on_every_backend(backend, empty_dataset):
    amd_like = {"TF_ENABLE_ONEDNN_OPTS": "0"} if backend == "tensorflow" else {}
    proc = run_cli(["-m", "zoo", "train", "--backend", backend, "--data", str(empty_dataset)],
                   backend=backend, **amd_like)
    assert "no rows" in one_error_line(proc)


@pytest.mark.parametrize("args, words", [
    (["stats", "/nonexistent"], "/nonexistent"),
    (["bench", "/nonexistent"], "/nonexistent"),  # bench imports TensorFlow first
])
def test_data_tools_mistake_is_one_line(args, words):
    assert words in one_error_line(run_cli(["-m", "data_tools", *args]))


def test_user_asked_for_native_logs(tmp_path):
    """TF_CPP_MIN_LOG_LEVEL=0 lets the notices through (oneDNN forced on: printed on any x86 CPU)."""
    proc = run_cli(["-m", "data_tools", "bench", "/nonexistent"],
                   TF_CPP_MIN_LOG_LEVEL="0", TF_ENABLE_ONEDNN_OPTS="1")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and lines[-1].startswith("error: ")
    assert any("oneDNN custom operations are on" in line for line in lines), lines
    assert any(_NOISE.match(line) for line in lines[:-1])  # what the filter removes otherwise


def test_notebook_style_import_is_quiet():
    """The Colab notebook imports the zoo in a kernel (not `python -m`): nothing on stderr."""
    proc = run_cli(["-m", "tests.child", "startup:notebook_import"], backend="torch")
    assert proc.returncode == 0 and json.loads(proc.stdout.splitlines()[-1]) == {"backend": "torch"}
    assert proc.stderr == ""
