"""Checks of tests/test_augment.py run in a fresh process on one backend."""


def run(fn, images, targets, weights):
    """`fn` mapped over one tf.data element (images, targets, weights); numpy results."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensors((images, targets, weights)).map(fn)
    images, targets, weights = next(iter(ds))
    return images.numpy(), {k: v.numpy() for k, v in targets.items()}, {k: v.numpy() for k, v in weights.items()}


def augmenter_checks() -> dict:
    """Policies, MixUp/CutMix label mixing, per-image randomness, seeding and equalize on this backend."""
    import keras
    import numpy as np
    import tensorflow as tf

    from data_tools.augment import equalize, make_augmenter

    out = {"errors": []}
    for args, kwargs in [(("sepia",), {}), (("basic",), {"mix": "blend"}), (("basic",), {"strength": 2})]:
        try:
            make_augmenter(*args, **kwargs)
            out["errors"].append(None)
        except ValueError as e:
            out["errors"].append(str(e))

    B = 16
    values = np.linspace(0, 240, B, dtype=np.float32)
    flat = np.broadcast_to(values[:, None, None, None], (B, 64, 64, 3)).copy()
    targets = {"artist": np.eye(B, dtype=np.float32), "year": (1500 + 10 * np.arange(B, dtype=np.float32))[:, None]}
    weights = {"artist": np.ones(B, np.float32), "year": (np.arange(B) % 3 != 0).astype(np.float32)}

    for mix in ("mixup", "cutmix"):
        im, t, w = run(make_augmenter("none", mix=mix, seed=1), flat, targets, weights)
        m = t["artist"]  # artist targets were the identity, so this is the mixing matrix
        support = [np.flatnonzero(m[i] > 0) for i in range(B)]
        out[mix] = {
            "rows_sum_to_one": bool(np.allclose(m.sum(1), 1.0, atol=1e-5)),
            "mixed_rows": int((m.max(1) < 0.99).sum()),
            "image_err": float(np.abs(im.mean((1, 2, 3)) - m @ values).max()),
            "pixels_from_partners": mix == "mixup" or all(set(np.unique(im[i]).round(2)) <= set(values[support[i]].round(2)) for i in range(B)),
            "year_err": float(np.abs(t["year"][:, 0] - m @ targets["year"][:, 0]).max()),
            "year_weight_is_product": bool(np.array_equal(w["year"], [np.prod(weights["year"][s]) for s in support])),
            "masked_stay_masked": bool((w["year"][weights["year"] == 0] == 0).all()),
            "artist_weights": w["artist"].tolist(),
        }

    rng = np.random.default_rng(0)
    scene = np.clip(np.linspace(0, 255, 64)[None, :, None] + rng.normal(0, 20, (64, 64, 3)), 0, 255)
    same = np.broadcast_to(scene, (B, 64, 64, 3)).astype(np.uint8)
    for policy in ("none", "basic", "randaugment"):
        a = run(make_augmenter(policy, seed=5), same, targets, weights)
        im = a[0]
        out[policy] = {
            "dtype": str(im.dtype), "shape": list(im.shape), "min": float(im.min()), "max": float(im.max()),
            "distinct": len({x.tobytes() for x in im}),
            "changed": int(sum(not np.array_equal(x, same[0]) for x in im)),
            "labels_untouched": bool(np.array_equal(a[1]["year"], targets["year"]) and np.array_equal(a[2]["year"], weights["year"])),
        }
    # seeded: the same seed repeats the same augmentation, another seed does not (randaugment
    # is left out here only because tracing its graph three times is slow)
    basic = [run(make_augmenter("basic", seed=s, rotation=0.1), same, targets, weights)[0] for s in (5, 5, 6)]
    out["seeded"] = [bool(np.array_equal(basic[0], basic[1])), bool(np.array_equal(basic[0], basic[2]))]
    make_augmenter("randaugment", mix="cutmix", num_ops=1, magnitude=0.3, alpha=0.4)  # valid options

    x = rng.uniform(30, 200, (2, 16, 16, 3)).astype("float32")
    x[1, ..., 2] = 77.0  # a flat channel stays as it is
    reference = np.stack([keras.ops.convert_to_numpy(keras.layers.Equalization(value_range=(0, 255))(xi)) for xi in x])
    out["equalize_err"] = float(np.abs(equalize(tf.constant(x)).numpy() - reference).max())
    return out


def cutmix_areas() -> dict:
    """Pasted CutMix areas and label areas for alpha 2.0 and 0.5 (40 batches of 64)."""
    import numpy as np
    import tensorflow as tf

    from data_tools.augment import make_augmenter

    B, S = 64, 32
    values = np.arange(B, dtype=np.float32)
    images = np.broadcast_to(values[:, None, None, None], (B, S, S, 3)).copy()
    targets = {"artist": np.eye(B, dtype=np.float32)}
    weights = {"artist": np.ones(B, np.float32)}
    out = {}
    for alpha in (2.0, 0.5):
        fn = make_augmenter("none", mix="cutmix", seed=3, alpha=alpha)
        ds = tf.data.Dataset.from_tensors((images, targets, weights)).repeat(40).map(fn)
        areas, label_areas = [], []
        for im, t, _ in ds.as_numpy_iterator():
            m = t["artist"]
            pasted = (im[..., 0] != values[:, None, None]).mean((1, 2))
            areas += pasted[m.max(1) < 1].tolist()
            label_areas += (1 - np.diag(m))[m.max(1) < 1].tolist()
        out[alpha] = {"mean": float(np.mean(areas)), "var": float(np.var(areas)),
                      "label_gap": float(np.abs(np.mean(areas) - np.mean(label_areas))), "n": len(areas)}
    return out
