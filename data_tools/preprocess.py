"""The one image preprocessing shared by training, evaluate, predict, explain and serve.

`load_image(source, image_size)`: a file path or raw bytes -> float32 `(H, W, 3)` RGB
pixels 0..255 at `image_size = (height, width)`, exactly what the training pipeline
feeds the model for the same file. A file that cannot be read raises `BadImage`
(a ValueError) with a one-line message.

Training sees images that ingest cleaned (`data_tools.images.to_jpeg`: EXIF rotation
applied, converted to RGB, shrunk to max-side 512 and JPEG-encoded; a clean RGB JPEG
within that size is kept byte for byte), decoded and resized by
`data_tools.pipeline.decode_jpeg` (libjpeg DCT scaling + `tf.image.resize`). So does
`load_image`: the same `to_jpeg` (ingest's default max side), then the same
`decode_jpeg`. A dataset image is therefore decoded from its own bytes, exactly as in
training. (A dataset ingested with another --max-side differs for images larger than
512 px.) TensorFlow is imported on first use, so importing this module stays light.
"""

from pathlib import Path

import numpy as np

from data_tools import images


class BadImage(ValueError):
    """An image that cannot be decoded; the message is one line."""


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

    from data_tools.pipeline import decode_jpeg

    try:
        pixels = decode_jpeg(tf.constant(jpeg), (int(image_size[0]), int(image_size[1])))
    except (tf.errors.OpError, ValueError) as exc:
        message = getattr(exc, "message", str(exc))
        raise BadImage(f"cannot read image: {message}".splitlines()[0]) from None
    return pixels.numpy().astype(np.float32)
