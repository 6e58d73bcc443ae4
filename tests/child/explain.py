"""Child-process code of tests/test_explain.py (and the texture model test_serve/test_similar share)."""

import numpy as np


def train_texture(root: str, artists: list, epochs: int, model: str) -> dict:
    """Train the texture CNN on the dataset in `root`, save it to `model`; {"train_acc"}.

    An `ArtistModel` over a 3-conv CNN backbone: trains in seconds; the code under test
    only sees a saved zoo model (registry backbones: `zoo_backbones`)."""
    import keras

    from data_tools.decode import load_image
    from data_tools.labels import LabelSpace
    from data_tools.manifest import read_manifest
    from zoo.artist_model import ArtistModel

    rows = read_manifest(root)
    movements = ["cool", "warm"]
    x = np.stack([load_image(f"{root}/{r['path']}", (32, 32)) for r in rows])
    y = {"artist": np.array([artists.index(r["artist"]) for r in rows]),
         "movement": np.array([movements.index(r["movement"]) for r in rows]),
         "year": np.array([[float(r["year"])] for r in rows])}
    keras.utils.set_random_seed(0)
    images = keras.Input((32, 32, 3), name="images")
    h = keras.layers.Rescaling(1 / 127.5, -1, name="preprocess")(images)
    for width in (16, 32, 64):
        h = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(h)
        h = keras.layers.MaxPooling2D()(h)
    backbone = keras.Model(images, keras.layers.GlobalAveragePooling2D()(h), name="texture_cnn_backbone")
    tasks = {"artist": artists, "movement": movements, "year": "regression"}
    net = ArtistModel(backbone, LabelSpace.from_tasks(tasks), dropout=0.0, name="texture_cnn")
    net.compile(keras.optimizers.Adam(3e-3),
                loss={"artist": "sparse_categorical_crossentropy",
                      "movement": "sparse_categorical_crossentropy", "year": "mse"},
                loss_weights={"artist": 1.0, "movement": 0.5, "year": 1e-4})
    net.fit(x, y, batch_size=16, epochs=epochs, shuffle=True, verbose=0)
    acc = float(np.mean(np.argmax(net.predict(x, verbose=0)["artist"], -1) == y["artist"]))
    net.save(model)
    return {"train_acc": acc}


def quadrant_fractions(root: str, model: str, quadrants: dict) -> dict:
    """Per image id -> its textured quadrant: the heatmap mass inside it; {"fractions"}."""
    from data_tools.decode import load_image
    from zoo.explain import explain_pixels
    from zoo.inference import open_predictor

    predictor = open_predictor(model)
    fractions = []
    for image_id, q in quadrants.items():
        artist = image_id.split("-")[0]
        pixels = load_image(f"{root}/images/{artist}/{image_id}.png", (32, 32))
        heat = explain_pixels(predictor, pixels, task="artist", target=artist).heatmap
        r0, c0 = (q // 2) * 16, (q % 2) * 16
        fractions.append(float(heat[r0:r0 + 16, c0:c0 + 16].sum() / heat.sum()))
    return {"fractions": fractions}


def zoo_backbones() -> dict:
    """Explain a random image with untrained resnet50 and vit_tiny16 at 32 px:
    name -> [heatmap shape, all finite, len(top), PNG bytes]."""
    import zoo
    from zoo.explain import explain_pixels, render_png
    from zoo.inference.keras_predictor import KerasPredictor

    out = {}
    for name in ("resnet50", "vit_tiny16"):
        model = zoo.build(name, tasks={"artist": ["a", "b", "c"], "year": "regression"}, input_shape=(32, 32, 3))
        pixels = np.random.default_rng(0).uniform(0, 255, (32, 32, 3)).astype("float32")
        e = explain_pixels(KerasPredictor(model), pixels)
        out[name] = [list(e.heatmap.shape), bool(np.isfinite(e.heatmap).all()), len(e.top),
                     len(render_png(pixels, e))]
    return out
