"""Batch augmentation inside tf.data: flips/rotations, per-image RandAugment, MixUp/CutMix.

Backend edge, like `data_tools.pipeline`: the augmenter runs in a tf.data graph under
any Keras backend (keras preprocessing layers switch to TF ops there by themselves).
An augmenter takes a batch `(images, targets, weights)`: images uint8 or float
(B, H, W, 3) pixels 0..255, targets/weights dicts per head as built by
`data_tools.pipeline`; it returns float32 images 0..255 and the (mixed) dicts.

Measured on 2 CPU cores, 128 px, batch 64 (see `python -m data_tools bench`): keras's
own RandAugment runs ~72 img/s per image and ~27 img/s on a batch, hence
`PerImageRandAugment`; keras.layers.RandomFlip ~1,300 img/s on a float batch versus
~7,500 for tf.image's stateless flip on the uint8 batch, hence `random_flip`.
"""

import keras
import tensorflow as tf

POLICIES = ("none", "basic", "randaugment")
MIXES = ("mixup", "cutmix")
OPTIONS = {
    "rotation": 0.05,  # basic: RandomRotation factor, a fraction of a full turn (0.05 = +-18 deg)
    "num_ops": 2,  # randaugment: ops applied to each image in turn
    "magnitude": 0.5,  # randaugment: keras.layers.RandAugment's `factor`, 0..1
    "alpha": None,  # mix: Beta(alpha, alpha) parameter; None = 0.2 for mixup, 1.0 for cutmix
}
# keras.layers.RandAugment's sub-layers (public attributes). Equalization is replaced by
# `equalize` below: keras's histogram spans the whole batch, not each image.
KERAS_RANDAUGMENT_OPS = (
    "random_shear",
    "random_translation",
    "random_rotation",
    "random_brightness",
    "random_color_degeneration",
    "random_contrast",
    "random_sharpness",
    "random_posterization",
    "solarization",
    "auto_contrast",
)


def equalize(images):
    """Histogram-equalise each image and channel (keras.layers.Equalization's formula).

    images: float (B, H, W, C) pixels 0..255 -> same shape and dtype.
    """
    b, c = tf.shape(images)[0], tf.shape(images)[3]
    values = tf.cast(tf.clip_by_value(images, 0.0, 255.0), tf.int32)
    # each (image, channel) gets its own 256 bins, so one bincount serves the whole batch
    bins = values + 256 * tf.reshape(tf.range(b * c), [b, 1, 1, c])
    hist = tf.math.bincount(bins, minlength=b * c * 256, maxlength=b * c * 256)
    hist = tf.reshape(hist, [b * c, 256])
    cdf = tf.cumsum(hist, axis=1)
    cdf_min = tf.reduce_min(tf.where(cdf > 0, cdf, cdf[:, -1:]), axis=1, keepdims=True)
    # exact integer ratio in float64, so rounding ties match keras
    ratio = tf.cast((cdf - cdf_min) * 255, tf.float64) / tf.cast(
        tf.maximum(cdf[:, -1:] - cdf_min, 1), tf.float64
    )
    lut = tf.clip_by_value(tf.round(ratio), 0.0, 255.0)
    out = tf.cast(tf.gather(tf.reshape(lut, [-1]), bins), images.dtype)
    flat = tf.math.count_nonzero(hist, axis=1) <= 1  # a one-value channel stays as it is
    return tf.where(tf.reshape(flat, [b, 1, 1, c]), images, out)


class PerImageRandAugment:
    """keras.layers.RandAugment's ops, drawn independently for every image of a batch.

    keras.layers.RandAugment draws one op sequence per call (on a batch, every image gets
    the same ops, only magnitudes differ) and computes all 11 ops for each of the
    `num_ops` slots, keeping one with `where`: ~72 img/s per image, ~27 img/s per batch.
    Here each slot draws one op per image, splits the batch by op
    (`tf.dynamic_partition`), runs each keras sub-layer on its images only and stitches
    the batch back: per-image ops and magnitudes at the cost of `num_ops` ops per image.
    The ops and their magnitudes are keras's (`factor`=magnitude; note that keras maps
    0.5 to rotations of 0..180 degrees and shifts of 0..50%, one direction only).

    Call: images float32 (B, H, W, 3) 0..255 -> same shape.
    """

    def __init__(self, num_ops: int = 2, magnitude: float = 0.5, seed: int = 0):
        reference = keras.layers.RandAugment(
            value_range=(0, 255), num_ops=num_ops, factor=magnitude, seed=seed
        )
        self.ops = [getattr(reference, name) for name in KERAS_RANDAUGMENT_OPS]
        self.ops.append(lambda x, training=True: equalize(x))
        self.num_ops = num_ops
        self.rng = tf.random.Generator.from_seed(seed)

    def __call__(self, images):
        n = tf.shape(images)[0]
        positions = tf.range(n)
        for _ in range(self.num_ops):
            choice = self.rng.uniform([n], 0, len(self.ops), dtype=tf.int32)
            parts = tf.dynamic_partition(images, choice, len(self.ops))
            where = tf.dynamic_partition(positions, choice, len(self.ops))
            outs = [
                tf.cond(  # several keras layers fail on an empty batch
                    tf.shape(part)[0] > 0,
                    lambda op=op, part=part: tf.cast(op(part, training=True), tf.float32),
                    lambda part=part: part,
                )
                for op, part in zip(self.ops, parts, strict=True)
            ]
            stitched = tf.dynamic_stitch(where, outs)
            stitched.set_shape(images.shape)
            images = stitched
        return images


def mix_batch(layer, images, targets: dict, weights: dict):
    """Mix a batch with a keras MixUp/CutMix layer and every head's labels alike.

    No library mixes a dict of labels that carry masks, so the keras layer mixes the
    images together with an identity matrix as its "labels": it returns the (B, B) mixing
    matrix M, row i = lam_i * e_i + (1 - lam_i) * e_perm(i). Every head (one-hot or year)
    becomes M @ y: the same permutation and lambda as the images. A mixed weight is the
    product of the weights of the samples that contribute (M[i, j] > 0), i.e.
    w_i * w_perm(i): a mix touching a missing label stays masked (weight 0).
    """
    n = tf.shape(images)[0]
    mixed = layer({"images": images, "labels": tf.eye(n)}, training=True)
    m = tf.cast(mixed["labels"], tf.float32)
    targets = {k: tf.matmul(m, tf.cast(y, tf.float32)) for k, y in targets.items()}
    weights = {
        k: tf.reduce_prod(tf.where(m > 0, w[None, :], 1.0), axis=1) for k, w in weights.items()
    }
    return tf.cast(mixed["images"], tf.float32), targets, weights


class BetaCutMix(keras.layers.CutMix):
    """keras.layers.CutMix with the paper's lambda ~ Beta(alpha, alpha) for every image.

    keras's `factor` is not alpha: keras first draws alpha ~ U(0, factor) per batch
    (factor <= 1, so alpha = 2.0 raises), then lambda ~ Beta(alpha, alpha). This
    replaces that one draw (keras's `_generate_mix_weight`; keras is pinned in
    constraints.txt) and keeps keras's boxes (area 1 - lambda), masks and labels.
    """

    def __init__(self, alpha: float = 1.0, seed=None):
        super().__init__(seed=seed)
        self.alpha = float(alpha)

    def _generate_mix_weight(self, batch_size, seed):
        return self.backend.random.beta(
            (batch_size,), self.alpha, self.alpha, seed=seed, dtype=self.compute_dtype
        )


def random_flip(rng: tf.random.Generator):
    """Horizontal flip of each image with p=0.5: (B, H, W, C) any dtype -> same.

    tf.image's batched stateless flip, not keras.layers.RandomFlip: on the uint8 batch it
    runs ~7,500 img/s here versus ~1,300 for the keras layer (which casts to float32).
    """
    return lambda images: tf.image.stateless_random_flip_left_right(images, rng.make_seeds(1)[:, 0])


def image_augmenter(policy: str, seed: int, rotation: float, num_ops: int, magnitude: float):
    """uint8/float (B, H, W, 3) 0..255 -> float32 augmented images, for one policy name."""
    if policy == "none":
        return None
    flip = random_flip(tf.random.Generator.from_seed(seed))
    if policy == "basic":
        rotate = keras.layers.RandomRotation(rotation, seed=seed)
        return lambda x: rotate(tf.cast(flip(x), tf.float32), training=True)
    randaugment = PerImageRandAugment(num_ops=num_ops, magnitude=magnitude, seed=seed)
    return lambda x: randaugment(tf.cast(flip(x), tf.float32))


def make_augmenter(policy: str, *, mix: str | None = None, seed: int = 0, **opts):
    """Return `fn(images, targets, weights) -> (images, targets, weights)` for batches.

    policy: "none", "basic" (horizontal flip + small rotation) or "randaugment"
    (flip + PerImageRandAugment). mix: None, "mixup" or "cutmix" (after the policy).
    opts: see OPTIONS. Use inside `tf.data.Dataset.map` after `.batch()`; images come in
    as uint8 or float 0..255 and leave as float32 0..255.
    """
    if policy not in POLICIES:
        raise ValueError(f"augment policy {policy!r}: valid policies are {', '.join(POLICIES)}")
    if mix is not None and mix not in MIXES:
        raise ValueError(f"mix {mix!r}: valid choices are {', '.join(MIXES)} (or None)")
    unknown = sorted(set(opts) - set(OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown augment options {', '.join(unknown)}: valid are {', '.join(OPTIONS)}"
        )
    o = {**OPTIONS, **opts}
    if o["alpha"] is not None and not o["alpha"] > 0:
        raise ValueError(f"augment option alpha={o['alpha']}: must be above 0 (Beta(alpha, alpha))")
    images_fn = image_augmenter(policy, seed, o["rotation"], o["num_ops"], o["magnitude"])
    mixer = None
    if mix == "mixup":
        mixer = keras.layers.MixUp(alpha=o["alpha"] or 0.2, seed=seed)
    elif mix == "cutmix":
        mixer = BetaCutMix(alpha=o["alpha"] or 1.0, seed=seed)

    def augment(images, targets, weights):
        if images_fn is not None:
            images = tf.clip_by_value(images_fn(images), 0.0, 255.0)
        images = tf.cast(images, tf.float32)
        if mixer is not None:
            images, targets, weights = mix_batch(mixer, images, targets, weights)
        return images, targets, weights

    return augment
