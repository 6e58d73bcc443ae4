"""`--precision`: the decision from hardware facts (injected: Intel, AMD, GPUs, TPU),
the fact reader, and one bf16 training run end to end."""

import pytest

from tests.conftest import BACKENDS, run_child
from zoo.training.precision import HardwareFacts, read_cpuinfo, resolve

# /proc/cpuinfo "flags" of the two CI machines (abridged to what matters).
INTEL_SPR = frozenset("fpu sse4_2 avx avx2 fma avx512f avx512bw avx512_vnni avx512_bf16 "
                      "avx512_fp16 amx_tile amx_int8 amx_bf16".split())
INTEL_SKYLAKE = frozenset("fpu sse4_2 avx avx2 fma avx512f avx512bw avx512_vnni".split())
AMD_EPYC = frozenset("fpu sse4_2 avx avx2 fma sha_ni".split())


def cpu(flags, model="test CPU"):
    return HardwareFacts("cpu", flags, model, None)


def gpu(capability):
    return HardwareFacts("gpu", AMD_EPYC, "host", capability)


@pytest.mark.parametrize(
    "facts, name, policy, reason",
    [
        (cpu(INTEL_SPR), "bfloat16", "mixed_bfloat16", "auto: CPU has amx_bf16"),
        (cpu(INTEL_SPR - {"amx_bf16"}), "bfloat16", "mixed_bfloat16", "auto: CPU has avx512_bf16"),
        (cpu(INTEL_SKYLAKE), "float32", "float32", "auto: no bf16 units (AVX-512 only)"),
        (cpu(AMD_EPYC), "float32", "float32", "auto: no bf16 units (AVX2 only)"),
        (cpu(frozenset()), "float32", "float32", "auto: no bf16 units found in the CPU flags"),
        (gpu((7, 5)), "float16", "mixed_float16", "7.5 has fast fp16 but no bf16"),
        (gpu((7, 0)), "float16", "mixed_float16", "7.0 has fast fp16"),
        (gpu((8, 0)), "bfloat16", "mixed_bfloat16", "8.0 has bf16 units"),
        (gpu((9, 0)), "bfloat16", "mixed_bfloat16", "9.0 has bf16 units"),
        (gpu((6, 1)), "float32", "float32", "6.1 has no fast bf16/fp16"),
        (gpu(None), "float32", "float32", "capability unknown"),
        (HardwareFacts("tpu", AMD_EPYC, "host", None), "bfloat16", "mixed_bfloat16", "TPU"),
    ],
    ids=["intel-amx", "intel-avx512bf16", "intel-skylake", "amd-avx2", "no-flags", "gpu7.5",
         "gpu7.0", "gpu8.0", "gpu9.0", "gpu6.1", "gpu-unknown", "tpu"],
)
def test_auto_follows_the_hardware(facts, name, policy, reason):
    chosen = resolve("auto", facts)
    assert (chosen.requested, chosen.name, chosen.policy) == ("auto", name, policy)
    assert reason in chosen.reason and chosen.reason.startswith("auto: ")


@pytest.mark.parametrize("requested, policy", [("float32", "float32"), ("bfloat16", "mixed_bfloat16"),
                                               ("float16", "mixed_float16")])
def test_explicit_request_wins_over_the_hardware(requested, policy):
    for facts in (cpu(INTEL_SPR), cpu(AMD_EPYC), gpu((7, 5))):
        chosen = resolve(requested, facts)
        assert (chosen.name, chosen.policy, chosen.reason) == (requested, policy, f"requested {requested}")


def test_unknown_precision_names_the_valid_ones():
    with pytest.raises(ValueError, match="'fp8'.*auto, float32, bfloat16, float16"):
        resolve("fp8", cpu(INTEL_SPR))


def test_cpuinfo_reader(tmp_path):
    info = tmp_path / "cpuinfo"
    core = "processor\t: {n}\nmodel name\t: AMD EPYC 7B13\nflags\t\t: {flags}\n\n"
    info.write_text(core.format(n=0, flags=" ".join(sorted(AMD_EPYC))) + core.format(n=1, flags="x"))
    flags, model = read_cpuinfo(info)
    assert flags == AMD_EPYC and model == "AMD EPYC 7B13"
    assert resolve("auto", cpu(flags, model)).policy == "float32"
    flags, model = read_cpuinfo(tmp_path / "missing")
    assert flags == frozenset() and model  # unreadable: no flags -> float32, some model name




@pytest.mark.slow  # torch ~2 min of CPU on the 2-core machine: over the default suite's budget
@pytest.mark.parametrize("backend", BACKENDS)
def test_bf16_accumulated_trains_and_resumes_in_the_recorded_policy(backend, tiny_data, tmp_path):
    """Every backend trains in bf16 (`make test-all`); torch is the quickest (no XLA compile)."""
    run = str(tmp_path / "run")
    got = run_child(backend, "precision:bf16_run", data=str(tiny_data), run=run)
    assert got["kind"] == "cpu" and got["flags"] > 0 and got["capability"] is None
    assert got["precision"] == {"requested": "bfloat16", "policy": "mixed_bfloat16",
                                "reason": "requested bfloat16"}
    assert "precision: mixed_bfloat16 (requested bfloat16)" in got["printed"]
    assert "precision: mixed_bfloat16 (recorded: requested bfloat16)" in got["printed"]  # the resume
    assert "mixed_bfloat16" in got["policies"]  # the saved model computes in bf16
    assert got["out_dtypes"] == ["float32"]  # the heads stay float32 (zoo/heads.py)
    # --accumulate 2 through the loop and --resume: 32 images, batch 16 in steps of 8, 2 epochs
    assert got["optimizer"] == [2, 4, 8]
    assert got["finite"] and 0 <= got["year_mae"] < 500  # in years: the year scaling survived bf16
