"""The model zoo: registry, shapes on every backend, parameter counts, saving, weights."""

import pytest

from tests.conftest import BACKENDS, run_child

REQUIRED = (
    ["resnet50", "resnet101", "resnet152"]
    + [f"efficientnet_b{i}" for i in range(8)]
    + [f"efficientnetv2_{s}" for s in ("b0", "b1", "b2", "b3", "s", "m", "l")]
    + ["vit_tiny16", "vit_small16", "vit_base16"]
    + ["convnext_tiny", "convnext_small", "convnext_base", "convnext_large"]
)


def test_list_models_has_every_family():
    import zoo

    names = zoo.list_models()
    assert names == sorted(names)
    assert set(REQUIRED) <= set(names)


@pytest.mark.parametrize(
    "typo, suggestion", [("resnet5O", "resnet50"), ("vit_smal16", "vit_small16"), ("efficientnetb0", "efficientnet_b0")]
)
def test_unknown_name_suggests_closest(typo, suggestion):
    import zoo

    with pytest.raises(ValueError, match=suggestion):
        zoo.build(typo)


@pytest.mark.parametrize(
    "name, shape, words",
    [("vit_tiny16", (100, 100, 3), "divisible by 16"), ("resnet50", (16, 16, 3), ">= 32"), ("resnet50", (64, 64), "height, width, 3")],
)
def test_bad_input_shape_is_one_clear_error(name, shape, words):
    import zoo

    with pytest.raises(ValueError, match=words):
        zoo.backbone(name, input_shape=shape)


def test_bad_tasks_and_weights_are_rejected(tmp_path):
    import zoo

    with pytest.raises(ValueError, match="task 'artist'"):
        zoo.build("vit_tiny16", input_shape=(32, 32, 3), tasks={"artist": 1})
    with pytest.raises(ValueError, match="weights"):
        zoo.backbone("resnet50", weights=str(tmp_path / "missing.weights.h5"))


# Building four families on JAX/TensorFlow takes minutes here: slow; torch runs by default and
# test_model_saved_under_jax_loads_on_every_backend covers the other backends cheaply.
@pytest.mark.parametrize("backend", [pytest.param(b, marks=pytest.mark.slow) if b != "torch" else b
                                     for b in BACKENDS])
def test_forward_pass_every_family(backend):
    report = run_child(backend, "models:forward_every_family")
    assert len(report) == 4
    for name, r in report.items():
        assert r["keys"] == ["artist", "movement", "year"], name
        assert r["shapes"] == {"artist": [2, 7], "movement": [2, 3], "year": [2, 1]}, name
        assert r["artist_sum"] == pytest.approx([1, 1], abs=1e-5), name
        assert r["movement_sum"] == pytest.approx([1, 1], abs=1e-5), name
        assert r["year_finite"], name


REFERENCE_PARAMS = {
    # keras.applications include_top=False
    "resnet50": 23_587_712,
    "resnet152": 58_370_944,
    "efficientnet_b0": 4_049_571,
    # timm vit_*_patch16_224 without the classifier
    "vit_tiny16": 5_524_416,
    "vit_small16": 21_665_664,
    "vit_base16": 85_798_656,
}


def test_parameter_counts_match_references():
    # Parameter counts do not depend on the backend; torch builds these in 14 s, JAX in ~70 s.
    assert run_child("torch", "models:parameter_counts") == REFERENCE_PARAMS


def test_model_saved_under_jax_loads_on_every_backend(tmp_path):
    run_child("jax", "models:save_models", out=str(tmp_path))
    for backend in ("tensorflow", "torch"):
        report = run_child(backend, "models:load_models", out=str(tmp_path))
        for name, r in report.items():
            assert r["artist_diff"] <= 1e-4, (backend, name, r)
            assert r["year_diff"] <= 1e-2, (backend, name, r)  # years: 1e-4 relative to 50-year scale
            assert r["class_names"] == ["a", "b", "c"]
            assert r["year_center"] == 1700.0
            year = next(t for t in r["label_space"]["tasks"] if t["name"] == "year")
            assert (year["center"], year["scale"]) == (1700.0, 50.0)


def test_applications_weights_file_loads_into_backbone(tmp_path):
    r = run_child("jax", "models:applications_weights", out=str(tmp_path))
    assert r["diff"] <= 1e-4 * max(1.0, r["scale"])
    assert r["fresh_diff"] > 100 * r["diff"] + 1e-3  # random init really differs


def _check_convnext(r, sizes):
    assert r["diff"] <= 1e-4 * max(1.0, r["scale"])  # zoo("convnext_tiny", weights=file) == application
    assert r["fresh_diff"] > 100 * r["diff"] + 1e-3  # random init really differs
    assert r["preprocess"] == "none"  # keras' own include_preprocessing normalises, only once
    assert r["features"] == 768
    assert set(r["counts"]) == set(sizes)
    for size, (zoo_count, app_count) in r["counts"].items():
        assert zoo_count == app_count, size


def test_convnext_matches_keras_applications(tmp_path):
    # Parameter counts and weight files do not depend on the backend; torch builds fastest.
    # KERAS_HOME points at an empty folder so "imagenet" must download, which fails offline.
    r = run_child("torch", "models:convnext", env={"KERAS_HOME": str(tmp_path / "kh")}, out=str(tmp_path),
                  sizes=["tiny"])
    _check_convnext(r, ["tiny"])
    assert r["counts"]["tiny"][0] == 27_820_128
    prefix = "convnext_tiny_"
    d = r["depth"]
    assert d[f"{prefix}stem/{prefix}stem_conv/kernel"] == 0
    assert d[f"{prefix}stage_0_block_0_depthwise_conv/kernel"] == 1
    assert d[f"{prefix}downsampling_block_0/{prefix}downsampling_conv_0/kernel"] == 2
    assert d[f"{prefix}stage_2_block_8_depthwise_conv/kernel"] == 5
    assert d[f"{prefix}downsampling_block_2/{prefix}downsampling_conv_2/kernel"] == 12
    assert d["artist/dense/kernel"] == 13
    if r["offline"] != "downloaded":  # a machine with internet downloads the weights instead
        assert "\n" not in r["offline"] and "--weights FILE" in r["offline"] and "--weights none" in r["offline"]


@pytest.mark.slow
def test_convnext_family_parameter_counts(tmp_path):
    sizes = ["tiny", "small", "base", "large"]
    _check_convnext(run_child("torch", "models:convnext", out=str(tmp_path), sizes=sizes), sizes)


def test_vit_layer_depth_and_saved_normalisation(tmp_path):
    import keras
    import numpy as np

    import zoo
    from zoo.models import layer_depth

    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    pixels = {"mean": mean, "std": std}
    model = zoo.build("vit_tiny16", input_shape=(32, 32, 3), tasks={"artist": 3}, preprocessing=pixels)
    depth = layer_depth(model)
    assert depth["patch_embed/kernel"] == 0 and depth["cls_position/position"] == 0
    assert depth["block0_attn/query/kernel"] == 1 and depth["block11_mlp_fc2/bias"] == 12
    assert depth["final_norm/gamma"] == 13 and depth["artist/dense/kernel"] == 13
    assert len(depth) == len(model.weights)
    with pytest.raises(ValueError, match="ViT, DINOv2, CLIP, SigLIP, ConvNeXt"):
        layer_depth(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]))

    model.save(tmp_path / "m.keras")  # a checkpoint's mean/std travels with the saved model
    pre = zoo.load_model(tmp_path / "m.keras").get_layer("vit_tiny16_backbone").get_layer("preprocess")
    assert pre.mode == "normalize" and list(pre.mean) == mean and list(pre.std) == std
    white = np.full((1, 2, 2, 3), 255.0, "float32")
    assert np.allclose(np.asarray(pre(white))[0, 0, 0], (1 - np.array(mean)) / np.array(std), atol=1e-5)
    with pytest.raises(ValueError, match="std"):
        zoo.backbone("vit_tiny16", input_shape=(32, 32, 3), preprocessing={"mean": mean, "std": [1, 0, 1]})


def test_file_carrying_code_is_refused(tmp_path):
    verdict = run_child("jax", "models:load_lambda_model", out=str(tmp_path))["verdict"]
    assert verdict != "loaded"
    assert "safe_mode" in verdict or "Lambda" in verdict


class _TablePredictor:
    """A Predictor in the sense of `zoo.inference`: `predict(images) -> {head: array}` (here a
    fixed function of the pixels), whatever runs behind it."""

    runtime = "table"

    def predict(self, images):
        import numpy as np

        first = images[:, 0, 0, 0] > 127  # the image's class, written in its first pixel
        onehot = np.stack([~first, first], axis=1).astype("float32")
        return {"artist": onehot, "style": onehot[:, ::-1], "year": images[:, :1, 0, 1] * 0 + 1900.0,
                "width": images[:, :1, 0, 2]}


def test_metrics_loop_over_any_label_space(tmp_path):
    import json

    import numpy as np
    import tensorflow as tf

    from data_tools.labels import LabelSpace, Task
    from zoo.training.evaluation import evaluate_into

    space = LabelSpace((Task("artist", ("a", "b")), Task("style", ("s", "t")),
                        Task("year", (), 1850.0, 100.0), Task("width", (), 0.0, 10.0)))
    images = np.zeros((4, 2, 2, 3), "float32")
    images[[1, 3], 0, 0, 0] = 255  # images 1 and 3 are class 1
    images[:, 0, 0, 2] = [10, 20, 30, 40]
    targets = {"artist": np.eye(2, dtype="float32")[[0, 1, 1, 1]], "style": np.eye(2, dtype="float32")[[1, 0, 1, 0]],
               "year": np.array([[1900], [1910], [0], [1890]], "float32"),
               "width": np.array([[10], [21], [30], [44]], "float32")}
    weights = {"artist": np.ones(4, "float32"), "style": np.array([1, 1, 0, 1], "float32"),
               "year": np.array([1, 1, 0, 1], "float32"), "width": np.ones(4, "float32")}
    ds = tf.data.Dataset.from_tensor_slices((images, targets, weights)).batch(2)
    metrics = evaluate_into(_TablePredictor(), ds, space, tmp_path, split="test", suffix="-test")
    assert metrics["n_images"] == 4 and metrics["backend"] == "table"
    assert metrics["artist_top1"] == 0.75 and "artist_top5" not in metrics  # 2 artists: top-5 is always 1
    assert metrics["per_artist_accuracy"] == {"a": 1.0, "b": 2 / 3}
    assert metrics["style_top1"] == 1.0  # the unlabelled third image does not count
    assert metrics["year_mae"] == pytest.approx(20 / 3) and metrics["width_mae"] == pytest.approx(5 / 4)
    assert json.loads((tmp_path / "metrics-test.json").read_text()) == metrics
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["confusion_matrix-test.png", "confusion_style-test.png",
                                                                   "reliability-test.png"]
