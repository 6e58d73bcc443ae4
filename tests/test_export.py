"""`python -m zoo export`: each artifact is verified by its own runtime against Keras.

A mixed-precision ViT-Tiny at 32 px (built, saved in a run folder whose
config.json names the tiny dataset, so verification runs on real images) is
exported once per module on torch, the fastest ONNX path here, into a folder
that does not exist yet; the other formats and backends, and one model of every
family to ONNX from each backend that writes it, are slow-marked.
"""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, backend_env, run_child, run_cli
from zoo.inference.export import EXPORTERS, ONNX_REFUSED
from zoo.registry import list_models

ARTISTS = ["Ann", "Bea", "Cy", "Dee"]
MOVEMENTS = ["Baroque", "Cubism", "Impressionism"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_data):
    """A run folder: model.keras (vit_tiny16, 32 px, 4 artists, 3 movements, year; mixed
    bfloat16 like the quickstart recipe on this CPU) + config.json."""
    run = tmp_path_factory.mktemp("run")
    run_child("torch", "export:save_vit_tiny", path=str(run / "model.keras"), artists=ARTISTS,
              movements=MOVEMENTS)
    (run / "config.json").write_text(json.dumps({"backend": "torch", "data": {"dir": str(tiny_data)}}))
    return run


@pytest.fixture(scope="module")
def onnx_export(run_dir):
    """`python -m zoo export` to ONNX with the recorded backend (torch), into a folder export
    creates; returns the artifact path."""
    out = run_dir / "qs" / "deeper" / "model.onnx"
    env = backend_env("torch")
    del env["KERAS_BACKEND"]  # the backend comes from the run folder's config.json
    proc = subprocess.run([sys.executable, "-m", "zoo", "export", str(run_dir / "model.keras"),
                           "--format", "onnx", "--out", str(out)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "verified by ONNX Runtime" in proc.stdout
    # Mixed bfloat16: both comparisons are printed, each named (issue 23).
    assert "vs float32 copy; artist " in proc.stdout, proc.stdout
    assert "vs the model as trained (mixed_bfloat16)" in proc.stdout, proc.stdout
    return out


def test_onnx_export_is_verified_on_the_models_own_images(onnx_export, tiny_data):
    from zoo.inference.sidecar import read_sidecar

    meta = read_sidecar(onnx_export)
    check = meta["verification"]
    assert meta["backend"] == "torch" and meta["format"] == "onnx"
    assert meta["trained_precision"] == "mixed (exported in float32)"
    assert check["passed"] and check["runtime"] == "ONNX Runtime"
    assert str(tiny_data) in check["images"]  # real test images, not synthetic ones
    assert set(check["max_abs_diff"]) == {"artist", "movement", "year"}
    assert all(0 <= d <= 1e-4 for d in check["max_abs_diff"].values())
    assert meta["source_model"] == "../../model.keras"  # relative to the artifact's folder


def test_difference_to_the_model_as_trained_is_reported(onnx_export):
    """The pass/fail check is against the float32 copy; the mixed-bf16 model users run differs
    more, and that difference is in the sidecar too."""
    from zoo.inference.sidecar import read_sidecar

    check = read_sidecar(onnx_export)["verification"]
    trained = check["as_trained"]
    assert trained["dtype_policy"] == "mixed_bfloat16"
    assert set(trained["max_abs_diff"]) == {"artist", "movement", "year"}
    # bfloat16 rounding: far above the float32 copy's ~1e-7, well below a wrong model's
    assert 1e-6 < trained["max_abs_diff"]["artist"] < 0.1
    assert trained["max_abs_diff"]["artist"] > check["max_abs_diff"]["artist"]


def test_paths_inside_the_current_folder_are_shown_relative(tmp_path, monkeypatch):
    from zoo.inference.sidecar import relative_source, source_model
    from zoo.inference.verify import shown

    monkeypatch.chdir(tmp_path)
    assert shown(tmp_path / "data" / "synthetic") == "data/synthetic"
    assert shown("/") == "/"
    side = relative_source("runs/a/model.keras", "exports/model.onnx")
    assert side == "../runs/a/model.keras"
    assert source_model("exports/model.onnx", {"source_model": side}).resolve() == tmp_path / "runs/a/model.keras"


def test_sidecar_round_trip_and_onnx_metadata(onnx_export):
    import onnx

    from zoo.inference.sidecar import read_sidecar, sidecar_path

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
    assert from_file["input_size"] == [32, 32] and from_file["batch"] is None  # any batch size
    # Without the sidecar, the copy inside the ONNX file still describes the artifact.
    lone = onnx_export.parent / "lone" / "model.onnx"
    lone.parent.mkdir()
    shutil.copy(onnx_export, lone)
    assert read_sidecar(lone) == from_file


def test_torch_onnx_takes_any_batch_in_one_call(onnx_export):
    """The torch backend's ONNX file has a free batch dimension: ONNX Runtime itself (no
    chunking) runs 4 images in one call and 1 image in another, matching each other."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_export), providers=["CPUExecutionProvider"])
    assert not isinstance(session.get_inputs()[0].shape[0], int)  # symbolic ("batch")
    images = np.random.default_rng(2).uniform(0, 255, (4, 32, 32, 3)).astype(np.float32)
    names = [o.name for o in session.get_outputs()]
    four = dict(zip(names, session.run(None, {"images": images}), strict=True))
    assert four["artist"].shape == (4, 4) and four["movement"].shape == (4, 3) and four["year"].shape == (4, 1)
    one = dict(zip(names, session.run(None, {"images": images[2:3]}), strict=True))
    np.testing.assert_allclose(one["artist"], four["artist"][2:3], atol=1e-5)


def test_onnx_predictor_outputs_and_wrong_size(onnx_export):
    from zoo.inference import open_predictor
    from zoo.inference.runners import OnnxPredictor

    predictor = open_predictor(onnx_export)
    assert isinstance(predictor, OnnxPredictor) and predictor.batch is None
    assert predictor.image_size == (32, 32) and predictor.runtime == "onnx"
    assert predictor.label_space.names == ("artist", "movement", "year")
    assert predictor.label_space["artist"].classes == tuple(ARTISTS)
    images = np.random.default_rng(1).uniform(0, 255, (3, 32, 32, 3)).astype(np.float32)
    out = predictor.predict(images)
    assert out["artist"].shape == (3, 4) and out["movement"].shape == (3, 3) and out["year"].shape == (3, 1)
    np.testing.assert_allclose(out["artist"].sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match=r"expects images \(B, 32, 32, 3\)"):
        predictor.predict(np.zeros((1, 64, 64, 3), np.float32))


def test_tampered_artifact_fails_verification(onnx_export):
    import onnx
    from onnx import numpy_helper

    from zoo.inference.sidecar import read_sidecar
    from zoo.inference.verify import VerificationError, verify

    tampered = onnx_export.parent / "tampered.onnx"  # beside it: source_model is relative
    model = onnx.load(str(onnx_export))
    biggest = max(model.graph.initializer, key=lambda t: np.prod(t.dims))
    biggest.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(biggest) * 1.05, biggest.name))
    onnx.save(model, str(tampered))
    shutil.copy(f"{onnx_export}.zoo.json", f"{tampered}.zoo.json")
    with pytest.raises(VerificationError, match="differs from Keras"):
        verify(tampered)  # Keras side: the source .keras on this process's backend (jax)
    assert read_sidecar(tampered)["verification"]["passed"] is False
    assert read_sidecar(onnx_export)["verification"]["passed"] is True


def test_format_the_backend_cannot_write_names_one_that_can(run_dir):
    proc = run_cli(["-m", "zoo", "export", str(run_dir / "model.keras"), "--format", "litert",
                    "--out", str(run_dir / "m.tflite"), "--backend", "torch"], backend="torch")
    err = proc.stderr.strip()
    assert proc.returncode == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and "--backend tensorflow" in err and "litert" in err
    assert not (run_dir / "m.tflite").exists()


@pytest.fixture(scope="module")
def resnet_file(tmp_path_factory):
    """A float32 resnet50 at 32 px with one artist head, saved on torch."""
    path = tmp_path_factory.mktemp("resnet") / "model.keras"
    run_child("torch", "export:save_model", path=str(path), name="resnet50", artists=ARTISTS)
    return path


def test_jax_onnx_of_a_family_that_does_not_verify_is_refused_up_front(resnet_file):
    """jax2onnx writes ResNet's MaxPool with a 4-D window ONNX Runtime refuses (issue 23):
    one error line naming the backends that work, before anything is written."""
    out = resnet_file.parent / "new" / "model.onnx"
    proc = run_cli(["-m", "zoo", "export", str(resnet_file), "--format", "onnx", "--out", str(out),
                    "--backend", "jax"], backend="jax")
    err = proc.stderr.strip()
    assert proc.returncode == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and "resnet" in err and "--backend torch" in err
    assert not out.parent.exists()


def test_a_failed_export_removes_what_it_wrote(tmp_path):
    """A converter or runtime failure leaves no partial artifact (model.onnx + model.onnx.data
    + sidecar); other files in the folder, and a mismatching artifact, stay."""
    from zoo.inference.export import removed_on_failure
    from zoo.inference.verify import MismatchError, VerificationError

    out = tmp_path / "model.onnx"
    (tmp_path / "model.keras").write_text("kept")
    with pytest.raises(VerificationError, match="cannot run"), removed_on_failure(out):
        out.write_bytes(b"graph")
        (tmp_path / "model.onnx.data").write_bytes(b"weights")
        (tmp_path / "model.onnx.zoo.json").write_text("{}")
        raise VerificationError("ONNX Runtime cannot run it")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]
    with pytest.raises(MismatchError), removed_on_failure(out):
        out.write_bytes(b"graph")
        raise MismatchError("differs")
    assert out.is_file()


FAMILY_MODELS = ("resnet50", "efficientnet_b0", "efficientnetv2_b0", "convnext_tiny", "vit_tiny16")


@pytest.mark.slow
@pytest.mark.parametrize("backend", EXPORTERS["onnx"])
@pytest.mark.parametrize("name", FAMILY_MODELS)
def test_every_family_exports_to_onnx_from_every_backend_offered(tmp_path, name, backend):
    """One model per family (smallest size, 32 px) from each backend that writes ONNX: verified,
    or (a backend and family in ONNX_REFUSED) refused with one line before writing."""
    from zoo.inference.sidecar import read_sidecar

    model = tmp_path / "model.keras"
    run_child(backend, "export:save_model", path=str(model), name=name, artists=ARTISTS)
    out = tmp_path / "out" / "model.onnx"
    proc = run_cli(["-m", "zoo", "export", str(model), "--format", "onnx", "--out", str(out),
                    "--backend", backend], backend=backend)
    if any(b == backend and name in list_models(family) for b, family in ONNX_REFUSED):
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert not out.parent.exists()
        return
    assert proc.returncode == 0, proc.stderr
    check = read_sidecar(out)["verification"]
    assert check["passed"] and all(0 <= d <= 1e-4 for d in check["max_abs_diff"].values())


@pytest.mark.slow
@pytest.mark.parametrize("fmt, backend, name", [
    ("onnx", "jax", "model_jax.onnx"),
    ("onnx", "tensorflow", "model_tf.onnx"),  # tf2onnx + the Erfc converter zoo.inference adds
    ("tf_saved_model", "tensorflow", "saved_tf"),
    ("tf_saved_model", "jax", "saved_jax"),
    ("openvino", "tensorflow", "model_tf.xml"),
    ("litert", "tensorflow", "model_tf.tflite"),
])
def test_every_format_is_verified_by_its_runtime(run_dir, fmt, backend, name):
    from zoo.inference.runners import RUNTIME_NAMES
    from zoo.inference.sidecar import read_sidecar

    out = run_dir / name
    proc = run_cli(["-m", "zoo", "export", str(run_dir / "model.keras"), "--format", fmt,
                    "--out", str(out), "--backend", backend], backend=backend)
    assert proc.returncode == 0, proc.stderr
    meta = read_sidecar(out)
    check = meta["verification"]
    assert check["runtime"] == RUNTIME_NAMES[fmt] and check["passed"] and meta["batch"] is None
    assert all(0 <= d <= 1e-4 for d in check["max_abs_diff"].values())
