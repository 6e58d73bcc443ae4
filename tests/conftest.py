"""Shared test helpers.

Keras fixes its backend at first import, so every test that needs a specific
backend runs its code in a fresh subprocess: a function in tests/child/ through
`run_child`.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# In-process tests that import keras use JAX; per-backend tests use subprocesses.
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("jax", "tensorflow", "torch")


def backend_env(backend: str, **extra: str) -> dict:
    """Environment for a child process on `backend` (repo on the path).

    Native logging variables are unset: children print to stderr exactly what a
    user gets (issue 10); pass e.g. TF_CPP_MIN_LOG_LEVEL="0" in `extra` to ask for logs.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "GRPC_VERBOSITY")}
    env.update(
        KERAS_BACKEND=backend,
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        PYTHONUNBUFFERED="1",
        ZOO_OFFLINE="1",  # `zoo train --data` without --recipe tries no download (zoo.training.defaults)
    )
    env.update(extra)
    return env


def run_child(backend: str, target: str, timeout: float = 600, env: dict | None = None, **kwargs):
    """Call `tests.child.<target>` ("module:function") with `kwargs` under KERAS_BACKEND=backend
    in a fresh process; returns the function's JSON result. A non-zero exit fails the test."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.child", target, json.dumps(kwargs)],
        env=backend_env(backend, **(env or {})),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        pytest.fail(f"[{backend}] {target} exit {proc.returncode}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_cli(args: list[str], backend: str = "jax", timeout: float = 600, cwd=None, **env):
    """Run `python <args>` (e.g. ["-m", "zoo", "train", ...]); returns CompletedProcess."""
    return subprocess.run(
        [sys.executable, *args],
        env=backend_env(backend, **env),
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


def synth_data(out, artists: int, per_artist: int, *extra: str):
    """`python -m data_tools synth` into `out` at 32 px (the CLI a user runs); returns `out`."""
    proc = run_cli(["-m", "data_tools", "synth", "--out", str(out), "--artists", str(artists),
                    "--per-artist", str(per_artist), "--image-size", "32", *extra])
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """A synthetic dataset of 4 artists x 10 images at 32 px (32 train, 4 val, 4 test)."""
    return synth_data(tmp_path_factory.mktemp("data") / "synth", 4, 10)
