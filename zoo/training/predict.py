"""Predictions for image files: one JSON-ready dict per image; a broken file gets an error dict.

Pixels come from `data_tools.preprocess.load_image`, the training pipeline's own
decode and resize (after ingest's EXIF rotation / RGB / JPEG cleaning).
"""

import numpy as np

from data_tools.preprocess import BadImage, load_image


def predict_images(model, paths, *, top_k: int = 5):
    """Yield per image: `{"image", "artists": [{"name", "p"}...], "movement": {"name", "p"}, "year"}`,
    or `{"image", "error"}` when the file cannot be read."""
    size = tuple(model.input_shape[1:3])
    heads = {name: model.get_layer(name) for name in model.output_names}
    for path in paths:
        try:
            pixels = load_image(path, size)
        except BadImage as exc:
            yield {"image": str(path), "error": str(exc)}
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


def format_prediction(image: str, outputs: dict, class_names: dict, *, top_k: int = 5) -> dict:
    """One image's line exactly as `predict_images` yields it, from outputs already computed
    (for callers without a file path or without a Keras model: the server, ONNX Runtime).

    `outputs`: head name -> that image's `(n_classes,)` probabilities or `(1,)` value;
    `class_names`: head name -> class names, empty for a regression head.
    """
    line = {"image": str(image)}
    for name, names in class_names.items():
        values = np.asarray(outputs[name]).reshape(-1)
        if not names:
            line[name] = round(float(values[0]), 1)
            continue
        order = np.argsort(-values)[: top_k if name == "artist" else 1]
        ranked = [{"name": names[i], "p": round(float(values[i]), 4)} for i in order]
        line["artists" if name == "artist" else name] = ranked if name == "artist" else ranked[0]
    return line
