"""Which precision a run computes in: `--precision auto|float32|bfloat16|float16`.

`auto` follows the hardware: mixed bf16 only where the device has bf16 units
(CPU with `amx_bf16` or `avx512_bf16`, NVIDIA GPU of compute capability >= 8.0,
TPU), mixed float16 with loss scaling on 7.x GPUs (fast fp16, no bf16), float32
otherwise. On an AVX2-only CPU mixed bf16 trains 10-20x slower (issue 10), on an
AMX Xeon 1.2-1.3x faster. Weights stay float32 under every mixed policy.
"""

import platform
from dataclasses import dataclass
from pathlib import Path

from recipes import choices

CHOICES = choices("precision")  # ("auto", "float32", "bfloat16", "float16"): the Recipe field's
POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo names of bf16 units


@dataclass(frozen=True)
class HardwareFacts:
    """What the precision decision looks at (injectable in tests)."""

    kind: str  # "cpu" | "gpu" | "tpu": the first accelerator keras sees
    cpu_flags: frozenset[str]  # the "flags" of /proc/cpuinfo; empty where unreadable
    cpu_model: str
    gpu_capability: tuple[int, int] | None  # NVIDIA compute capability; None without a GPU


@dataclass(frozen=True)
class Precision:
    """The resolved choice, recorded in config.json under "precision"."""

    requested: str  # "auto" | "float32" | "bfloat16" | "float16"
    name: str  # "float32" | "bfloat16" | "float16"
    policy: str  # Keras dtype policy: "float32" | "mixed_bfloat16" | "mixed_float16"
    reason: str  # one sentence


def read_cpuinfo(path="/proc/cpuinfo") -> tuple[frozenset[str], str]:
    """(flags, model name) of the first CPU in `path`; (empty, platform.processor()) if unreadable."""
    flags, model = frozenset(), ""
    try:
        text = Path(path).read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "flags" and not flags:
            flags = frozenset(value.split())
        elif key == "model name" and not model:
            model = value.strip()
    return flags, model or platform.processor() or platform.machine()


def read_facts() -> HardwareFacts:
    """The facts of this machine, as the imported keras backend sees it (call after keras loads)."""
    import keras

    kind, capability = _first_device(keras.backend.backend())
    flags, model = read_cpuinfo()
    return HardwareFacts(kind, flags, model, capability)


def _first_device(backend: str) -> tuple[str, tuple[int, int] | None]:
    """("cpu" | "gpu" | "tpu", NVIDIA compute capability or None) of the first device.

    Backend edge: keras can list devices (not on torch) but not their compute
    capability, so each backend's own device query is used.
    """
    try:
        if backend == "jax":
            import jax  # backend-edge: the device's compute capability (keras has no query)

            device = jax.devices()[0]
            value = getattr(device, "compute_capability", None)  # e.g. "8.0" on CUDA
            capability = tuple(int(p) for p in str(value).split(".")[:2]) if value else None
            return {"cuda": "gpu", "rocm": "gpu"}.get(device.platform, device.platform), capability
        if backend == "torch":
            import torch  # backend-edge: CUDA compute capability (keras lists no torch devices)

            if torch.cuda.is_available():
                return "gpu", tuple(torch.cuda.get_device_capability(0))
            return "cpu", None
        if backend == "tensorflow":
            import tensorflow as tf  # backend-edge: TPU/GPU and its compute capability

            if tf.config.list_logical_devices("TPU"):
                return "tpu", None
            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                value = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
                return "gpu", tuple(value) if value else None
    except (RuntimeError, ValueError):
        pass  # a device that cannot be queried: decide as for a CPU
    return "cpu", None


def resolve(requested: str = "auto", facts: HardwareFacts | None = None) -> Precision:
    """`requested` -> the precision to train in. Unknown names raise ValueError.

    An explicit name is taken as asked (facts are not read); `auto` reads the
    facts (`read_facts()` when None) and decides as the module docstring says.
    """
    if requested not in CHOICES:
        raise ValueError(f"unknown precision {requested!r}; valid: {', '.join(CHOICES)}")
    if requested != "auto":
        return Precision(requested, requested, POLICIES[requested], f"requested {requested}")
    facts = facts or read_facts()
    name, why = _auto(facts)
    return Precision("auto", name, POLICIES[name], f"auto: {why}")


def _auto(facts: HardwareFacts) -> tuple[str, str]:
    """(precision name, why) for `facts`."""
    if facts.kind == "tpu":
        return "bfloat16", "TPU has bf16 units"
    if facts.kind == "gpu":
        cap = facts.gpu_capability
        if cap is None:
            return "float32", "GPU compute capability unknown (not NVIDIA?)"
        version = f"{cap[0]}.{cap[1]}"
        if cap >= (8, 0):
            return "bfloat16", f"GPU compute capability {version} has bf16 units"
        if cap[0] == 7:
            return "float16", f"GPU compute capability {version} has fast fp16 but no bf16 (loss scaling on)"
        return "float32", f"GPU compute capability {version} has no fast bf16/fp16"
    unit = next((f for f in BF16_CPU_FLAGS if f in facts.cpu_flags), None)
    if unit:
        return "bfloat16", f"CPU has {unit}"
    simd = "AVX-512" if "avx512f" in facts.cpu_flags else "AVX2" if "avx2" in facts.cpu_flags else None
    return "float32", f"no bf16 units ({simd} only)" if simd else "no bf16 units found in the CPU flags"
