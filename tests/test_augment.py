"""data_tools.augment inside tf.data on every Keras backend: policies, per-image
RandAugment, equalize, and MixUp/CutMix that mix every head's labels and masks alike."""

from tests.conftest import run_child


def test_augmenter_on_backend(backend):
    out = run_child(backend, "augment:augmenter_checks")

    policy_error, mix_error, option_error = out["errors"]
    assert policy_error == "augment policy 'sepia': valid policies are none, basic, randaugment"
    assert mix_error == "mix 'blend': valid choices are mixup, cutmix (or None)"
    assert option_error.startswith("unknown augment options strength: valid are")

    for mix in ("mixup", "cutmix"):
        r = out[mix]
        assert r["rows_sum_to_one"] and r["mixed_rows"] >= 4, r
        assert r["pixels_from_partners"], r  # CutMix: each image is made of itself and its partner
        # images and every label use the same permutation and lambda (CutMix: box area vs pixel count)
        assert r["image_err"] < (0.05 if mix == "mixup" else 10.0), r
        assert r["year_err"] < 0.1, r
        assert r["year_weight_is_product"] and r["masked_stay_masked"], r
        assert r["artist_weights"] == [1.0] * 16

    assert out["none"]["distinct"] == 1 and out["none"]["changed"] == 0
    for policy in ("none", "basic", "randaugment"):
        r = out[policy]
        assert r["dtype"] == "float32" and r["shape"] == [16, 64, 64, 3], r
        assert 0.0 <= r["min"] and r["max"] <= 255.0, r
        assert r["labels_untouched"], r
    for policy in ("basic", "randaugment"):
        r = out[policy]
        # identical inputs come out different: randomness is per image, not per batch
        assert r["distinct"] >= 12 and r["changed"] >= 12, r
    assert out["seeded"] == [True, False]

    # keras.layers.Equalization applied image by image; under jax keras divides in float32,
    # so a rounding tie may land one grey level apart
    assert out["equalize_err"] <= (1.0 if backend == "jax" else 0.0)




def test_cutmix_alpha_is_the_beta_parameter():
    """Pasted area = 1 - lambda, lambda ~ Beta(alpha, alpha): mean 1/2, variance 1/(4(2a+1))."""
    out = run_child("jax", "augment:cutmix_areas")
    for alpha, r in out.items():
        expected_var = 1 / (4 * (2 * float(alpha) + 1))  # 0.05 for 2.0, 0.125 for 0.5
        assert r["n"] > 1500, r
        assert abs(r["mean"] - 0.5) < 0.03, r
        assert abs(r["var"] - expected_var) < 0.2 * expected_var, r
        assert r["label_gap"] < 0.02, r  # labels are mixed by the same area
