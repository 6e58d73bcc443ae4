"""Run one study step in its own process: output to a log file, peak memory of its process tree."""

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ChildResult:
    returncode: int  # -9 after a timeout
    wall_s: float
    peak_rss_mb: float  # max over polls of the summed RSS of the child and its children
    last_error: str  # last non-empty stderr line ("" if none)


def child_env(backend: str, extra: dict | None = None) -> dict:
    """Environment for a child on `backend`: quiet TF logs, this checkout importable."""
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONUNBUFFERED="1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(extra or {})
    return env


def _tree_rss(proc: psutil.Process) -> int:
    """Bytes resident in `proc` and all its descendants (0 once it is gone)."""
    total = 0
    try:
        for p in [proc, *proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
    except psutil.NoSuchProcess:
        return 0
    return total


def _kill_tree(proc: psutil.Process) -> None:
    """Kill the child we started and its descendants, by pid."""
    try:
        members = [*proc.children(recursive=True), proc]
    except psutil.NoSuchProcess:
        return
    for p in members:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass


def run_child(args: list[str], *, env: dict, log_path: Path, timeout_s: float | None = None,
              poll_s: float = 0.25) -> ChildResult:
    """Run `python <args>`; stdout and stderr both go to `log_path` (appended).

    Polls the process tree's resident memory every `poll_s` seconds; kills the
    tree after `timeout_s` seconds (returncode -9, last_error says so).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    last = [""]
    with open(log_path, "ab", buffering=0) as log:
        started = time.perf_counter()
        popen = subprocess.Popen([sys.executable, *args], env=env, stdout=log, stderr=subprocess.PIPE)

        def tee_stderr():
            for line in popen.stderr:
                log.write(line)
                text = line.decode(errors="replace").strip()
                if text:
                    last[0] = text

        reader = threading.Thread(target=tee_stderr, daemon=True)
        reader.start()
        proc, peak = psutil.Process(popen.pid), 0
        try:
            while popen.poll() is None:
                peak = max(peak, _tree_rss(proc))
                if timeout_s is not None and time.perf_counter() - started > timeout_s:
                    _kill_tree(proc)
                    popen.wait()
                    reader.join(timeout=5)
                    return ChildResult(-9, time.perf_counter() - started, peak / 2**20,
                                       f"timed out after {timeout_s:.0f} s")
                try:
                    popen.wait(timeout=poll_s)
                except subprocess.TimeoutExpired:
                    pass
        except BaseException:  # e.g. Ctrl-C: leave no orphan behind
            _kill_tree(proc)
            popen.wait()
            raise
        wall = time.perf_counter() - started
        reader.join(timeout=5)
    return ChildResult(popen.returncode, wall, peak / 2**20, last[0])
