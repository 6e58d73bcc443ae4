"""Predictions for image files: one JSON-ready dict per image; a broken file gets an error dict."""

import numpy as np
from PIL import Image


def load_pixels(path, size) -> np.ndarray:
    """An image file as `(height, width, 3)` float32 RGB pixels 0-255 resized to `size`
    (bilinear, as the tf.data pipeline does)."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        img = img.resize((size[1], size[0]), Image.BILINEAR)
        return np.asarray(img, dtype=np.float32)


def predict_images(model, paths, *, top_k: int = 5):
    """Yield per image: `{"image", "artists": [{"name", "p"}...], "movement": {"name", "p"}, "year"}`,
    or `{"image", "error"}` when the file cannot be read."""
    size = tuple(model.input_shape[1:3])
    heads = {name: model.get_layer(name) for name in model.output_names}
    for path in paths:
        try:
            pixels = load_pixels(path, size)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            yield {"image": str(path), "error": f"cannot read image: {exc}".splitlines()[0]}
            continue
        out = model.predict_on_batch(pixels[None])
        line = {"image": str(path)}
        for name, head in heads.items():
            values = np.asarray(out[name])[0]
            if head.is_regression:
                line[name] = round(float(values[0]), 1)
                continue
            order = np.argsort(-values)[: top_k if name == "artist" else 1]
            ranked = [{"name": head.class_names[i], "p": round(float(values[i]), 4)} for i in order]
            line["artists" if name == "artist" else name] = ranked if name == "artist" else ranked[0]
        yield line
