"""The one image preprocessing shared by training, evaluate, predict, explain and serve.

`load_image(source, image_size)`: a file path or raw bytes -> float32 `(H, W, 3)` RGB
pixels 0..255 at `image_size = (height, width)`, exactly what the training pipeline
feeds the model for the same file. A file that cannot be read raises `BadImage`
(a ValueError) with a one-line message.

(Interim version: PIL decode + bilinear resize; to be replaced by the tf.data path.)
"""

import io
from pathlib import Path

import numpy as np
from PIL import Image


class BadImage(ValueError):
    """An image that cannot be decoded; the message is one line."""


def load_image(source, image_size) -> np.ndarray:
    """Path or bytes -> float32 (height, width, 3) pixels 0..255 (see the module docstring)."""
    try:
        fp = io.BytesIO(source) if isinstance(source, bytes | bytearray) else Path(source)
        with Image.open(fp) as img:
            img = img.convert("RGB").resize((image_size[1], image_size[0]), Image.BILINEAR)
            return np.asarray(img, dtype=np.float32)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise BadImage(f"cannot read image: {exc}".splitlines()[0]) from None
