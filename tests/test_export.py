"""`python -m zoo export`: each artifact is verified by its own runtime against Keras.

A mixed-precision ViT-Tiny at 32 px (built, saved in a run folder whose
config.json names the tiny dataset, so verification runs on real images) is
exported once per module on torch, the fastest ONNX path here; the other
formats and backends are slow-marked.
"""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, backend_env, run_cli, run_on_backend

ARTISTS = ["Ann", "Bea", "Cy", "Dee"]
MOVEMENTS = ["Baroque", "Cubism", "Impressionism"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_data):
    """A run folder: model.keras (vit_tiny16, 32 px, 4 artists, 3 movements, year; mixed
    bfloat16 like the quickstart recipe on this CPU) + config.json."""
    run = tmp_path_factory.mktemp("run")
    run_on_backend("torch", f"""
        import json, keras, zoo
        keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
        model = zoo.build("vit_tiny16", input_shape=(32, 32, 3), target_scaling={{"year": (1880.0, 40.0)}},
                          tasks={{"artist": {ARTISTS!r}, "movement": {MOVEMENTS!r}, "year": "regression"}})
        model.save({str(run / "model.keras")!r})
        print(json.dumps({{}}))
    """)
    (run / "config.json").write_text(json.dumps({"backend": "torch", "data": {"dir": str(tiny_data)}}))
    return run


@pytest.fixture(scope="module")
def onnx_export(run_dir):
    """`python -m zoo export` to ONNX with the recorded backend (torch); returns the artifact path."""
    out = run_dir / "model.onnx"
    env = backend_env("torch")
    del env["KERAS_BACKEND"]  # the backend comes from the run folder's config.json
    proc = subprocess.run([sys.executable, "-m", "zoo", "export", str(run_dir / "model.keras"),
                           "--format", "onnx", "--out", str(out)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "verified by ONNX Runtime" in proc.stdout
    return out


def test_onnx_export_is_verified_on_the_models_own_images(onnx_export, tiny_data):
    from zoo.export import read_sidecar

    meta = read_sidecar(onnx_export)
    check = meta["verification"]
    assert meta["backend"] == "torch" and meta["format"] == "onnx"
    assert meta["trained_precision"] == "mixed (exported in float32)"
    assert check["passed"] and check["runtime"] == "ONNX Runtime"
    assert str(tiny_data) in check["images"]  # real test images, not synthetic ones
    assert set(check["max_abs_diff"]) == {"artist", "movement", "year"}
    assert all(0 <= d <= 1e-4 for d in check["max_abs_diff"].values())


def test_sidecar_round_trip_and_onnx_metadata(onnx_export):
    import onnx

    from zoo.export import read_sidecar, sidecar_path

    from_file = read_sidecar(sidecar_path(onnx_export))
    assert read_sidecar(onnx_export) == from_file
    model = onnx.load(str(onnx_export))
    assert json.loads({p.key: p.value for p in model.metadata_props}["zoo"]) == from_file
    assert [o.name for o in model.graph.output] == ["artist", "movement", "year"]
    assert from_file["tasks"] == {
        "artist": {"kind": "classification", "class_names": ARTISTS},
        "movement": {"kind": "classification", "class_names": MOVEMENTS},
        "year": {"kind": "regression", "center": 1880.0, "scale": 40.0},
    }
    assert from_file["input_size"] == [32, 32] and from_file["batch"] == 1
    # Without the sidecar, the copy inside the ONNX file still describes the artifact.
    lone = onnx_export.parent / "lone" / "model.onnx"
    lone.parent.mkdir()
    shutil.copy(onnx_export, lone)
    assert read_sidecar(lone) == from_file


def test_onnx_predictor_outputs_and_wrong_size(onnx_export):
    from zoo.export import OnnxPredictor

    predictor = OnnxPredictor(onnx_export)
    assert predictor.input_size == (32, 32)
    images = np.random.default_rng(1).uniform(0, 255, (3, 32, 32, 3)).astype(np.float32)
    out = predictor.predict(images)  # fixed-batch (torch) artifact: fed one image at a time
    assert out["artist"].shape == (3, 4) and out["movement"].shape == (3, 3) and out["year"].shape == (3, 1)
    np.testing.assert_allclose(out["artist"].sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match=r"expects images \(B, 32, 32, 3\)"):
        predictor.predict(np.zeros((1, 64, 64, 3), np.float32))


def test_tampered_artifact_fails_verification(onnx_export, tmp_path):
    import onnx
    from onnx import numpy_helper

    from zoo.export import VerificationError, read_sidecar, verify

    tampered = tmp_path / "tampered.onnx"
    model = onnx.load(str(onnx_export))
    biggest = max(model.graph.initializer, key=lambda t: np.prod(t.dims))
    biggest.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(biggest) * 1.05, biggest.name))
    onnx.save(model, str(tampered))
    shutil.copy(f"{onnx_export}.zoo.json", f"{tampered}.zoo.json")
    with pytest.raises(VerificationError, match="differs from Keras"):
        verify(tampered)  # Keras side: the source .keras on this process's backend (jax)
    assert read_sidecar(tampered)["verification"]["passed"] is False
    assert read_sidecar(onnx_export)["verification"]["passed"] is True


def test_format_the_backend_cannot_write_names_one_that_can(run_dir, capsys):
    from zoo.cli import main

    code = main(["export", str(run_dir / "model.keras"), "--format", "litert",
                 "--out", str(run_dir / "m.tflite"), "--backend", "torch"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("error: ") and "--backend tensorflow" in err and "litert" in err
    assert not (run_dir / "m.tflite").exists()


@pytest.mark.slow
@pytest.mark.parametrize("fmt, backend, name", [
    ("onnx", "jax", "model_jax.onnx"),
    ("onnx", "tensorflow", "model_tf.onnx"),  # tf2onnx + the Erfc converter zoo.export adds
    ("tf_saved_model", "tensorflow", "saved_tf"),
    ("tf_saved_model", "jax", "saved_jax"),
    ("openvino", "tensorflow", "model_tf.xml"),
    ("litert", "tensorflow", "model_tf.tflite"),
])
def test_every_format_is_verified_by_its_runtime(run_dir, fmt, backend, name):
    from zoo.export import RUNTIME_NAMES, read_sidecar

    out = run_dir / name
    proc = run_cli(["-m", "zoo", "export", str(run_dir / "model.keras"), "--format", fmt,
                    "--out", str(out), "--backend", backend], backend=backend)
    assert proc.returncode == 0, proc.stderr
    check = read_sidecar(out)["verification"]
    assert check["runtime"] == RUNTIME_NAMES[fmt] and check["passed"]
    assert all(0 <= d <= 1e-4 for d in check["max_abs_diff"].values())
