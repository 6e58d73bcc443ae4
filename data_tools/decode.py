"""The one image decode: what training, evaluate, predict, explain and serve feed a model.

`decode_jpeg(data, image_size)`: JPEG bytes (a scalar string tensor) -> uint8 `(H, W, 3)`,
the op the tf.data pipeline (`data_tools.pipeline`) maps over dataset files.
`load_image(source, image_size)`: a file path or raw bytes -> float32 `(H, W, 3)` RGB
pixels 0..255, exactly what the training pipeline feeds the model for the same file: the
bytes are first cleaned like ingest does (`data_tools.images.to_jpeg`: EXIF rotation,
RGB, max side 512, JPEG; a clean RGB JPEG within that size is kept byte for byte), then
`decode_jpeg`. A file that cannot be read raises `BadImage` (a ValueError) with a
one-line message. (A dataset ingested with another --max-side differs for images larger
than 512 px.) TensorFlow (its JPEG decoder and resize) is imported on first use, so
importing this module stays light; nothing here touches tf.data.
"""

from pathlib import Path

import numpy as np

from data_tools import images


class BadImage(ValueError):
    """An image that cannot be decoded; the message is one line."""


def decode_jpeg(data, image_size: tuple[int, int]):
    """JPEG bytes (a scalar string tensor) -> uint8 (H, W, 3) resized to `image_size`.

    Large JPEGs are decoded at 1/2, 1/4 or 1/8 scale by libjpeg (DCT scaling) when
    that still leaves both sides >= the target, which is several times faster. The
    remaining shrink along the tighter side is then < 2x, so plain bilinear resizing
    (no antialias, which halves throughput at 128 px) is enough. The aspect ratio is
    not kept: paintings are squashed to `image_size`.
    """
    import tensorflow as tf

    shape = tf.image.extract_jpeg_shape(data)
    fit = tf.minimum(shape[0] // image_size[0], shape[1] // image_size[1])
    branch = tf.cast(fit >= 2, tf.int32) + tf.cast(fit >= 4, tf.int32) + tf.cast(fit >= 8, tf.int32)
    image = tf.switch_case(
        branch,
        [lambda r=r: tf.io.decode_jpeg(data, channels=3, ratio=r) for r in (1, 2, 4, 8)],
    )
    image = tf.image.resize(image, image_size)
    return tf.saturate_cast(tf.round(image), tf.uint8)


def load_image(source, image_size) -> np.ndarray:
    """Path or bytes -> float32 (height, width, 3) pixels 0..255 (see the module docstring)."""
    try:
        data = bytes(source) if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
    except OSError as exc:
        raise BadImage(f"cannot read image: {exc.strerror or exc}: {source}") from None
    try:
        jpeg = images.to_jpeg(data, images.MAX_SIDE)
    except images.Rejected as rej:
        raise BadImage(f"cannot read image: {rej.reason}") from None
    import tensorflow as tf

    try:
        pixels = decode_jpeg(tf.constant(jpeg), (int(image_size[0]), int(image_size[1])))
    except (tf.errors.OpError, ValueError) as exc:
        message = getattr(exc, "message", str(exc))
        raise BadImage(f"cannot read image: {message}".splitlines()[0]) from None
    return pixels.numpy().astype(np.float32)
