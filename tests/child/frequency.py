"""Checks of tests/test_frequency.py run in a fresh process on one backend."""


def apply(layer, x):
    import keras

    return keras.ops.convert_to_numpy(layer(x))


def image(row):
    """Two 32x32 RGB images whose every row is `row`."""
    import numpy as np

    return np.broadcast_to(row[None, :, None], (32, 32, 3))[None].astype("float32").repeat(2, axis=0)


def filter_checks() -> dict:
    """Fourier filters on known signals, unsharp masking, spec parsing and a .keras round trip."""
    import os
    import tempfile

    import keras
    import numpy as np

    from zoo.layers.frequency import FourierFilter, UnsharpMask, make_image_filter

    out = {}
    cols = np.arange(32)
    stripes = 60.0 * (-1.0) ** cols           # 0.5 cycles/pixel (Nyquist)
    wave = 40.0 * np.cos(2 * np.pi * cols / 16)  # 0.0625 cycles/pixel
    x = image(120.0 + stripes + wave)
    out["lowpass_err"] = float(np.abs(apply(make_image_filter("lowpass"), x) - image(120.0 + wave)).max())
    out["highpass_err"] = float(np.abs(apply(make_image_filter("highpass:0.1"), x) - image(120.0 + stripes)).max())
    out["bandpass_err"] = float(np.abs(apply(make_image_filter("bandpass:0.05-0.3"), x) - image(120.0 + wave)).max())
    flat = np.full((1, 8, 8, 3), 200.0, "float32")
    out["flat_kept"] = [float(np.abs(apply(make_image_filter(s), flat) - 200).max()) for s in ("lowpass", "highpass", "sharpen")]

    step = np.where(cols < 16, 40.0, 200.0)
    blurred = np.convolve(np.pad(step, 2, mode="edge"), np.ones(5) / 5, mode="valid")  # a soft edge
    sharp = apply(make_image_filter("sharpen:1.5"), image(blurred))
    out["edge_gradient"] = [float(np.abs(np.diff(blurred)).max()), float(np.abs(np.diff(sharp[0, 16, :, 0])).max())]
    out["sharp_range"] = [float(sharp.min()), float(sharp.max())]
    noisy = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    for s in ("lowpass:0.1", "highpass:0.2", "sharpen:3"):
        y = apply(make_image_filter(s), noisy)
        out.setdefault("ranges", []).append([float(y.min()), float(y.max())])

    parsed = {s: make_image_filter(s) for s in ("lowpass", "lowpass:0.2", "highpass:0.1", "bandpass:0.05-0.3", "sharpen", "sharpen:1.5")}
    out["parsed"] = {s: [type(layer).__name__, {k: v for k, v in layer.get_config().items() if k in ("mode", "cutoff", "high_cutoff", "amount")}] for s, layer in parsed.items()}
    out["none"] = [make_image_filter(None) is None, make_image_filter("none") is None]
    out["errors"] = []
    for s in ("blur", "lowpass:abc", "bandpass:0.3", "lowpass:0.9", "bandpass:0.3-0.1"):
        try:
            make_image_filter(s)
            out["errors"].append(None)
        except ValueError as e:
            out["errors"].append(str(e))

    inputs = keras.Input((32, 32, 3))
    outputs = UnsharpMask(amount=1.5, sigma=0.8)(FourierFilter("bandpass", cutoff=0.02, high_cutoff=0.4)(inputs))
    model = keras.Model(inputs, outputs)
    path = os.path.join(tempfile.mkdtemp(), "filters.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    out["reload_err"] = float(np.abs(model.predict(noisy[:, :16].repeat(2, 1).repeat(2, 2), verbose=0)
                                    - loaded.predict(noisy[:, :16].repeat(2, 1).repeat(2, 2), verbose=0)).max())
    out["reloaded_layers"] = [type(layer).__name__ for layer in loaded.layers[1:]]
    layer = loaded.layers[1]
    out["reloaded_config"] = [layer.mode, layer.cutoff, layer.high_cutoff, loaded.layers[2].amount, loaded.layers[2].sigma]

    any_size = keras.Model(i := keras.Input((None, None, 3)), FourierFilter("lowpass", 0.25)(i))
    y = any_size.predict(image(120.0 + stripes)[:, :24], verbose=0)
    out["any_size"] = [list(y.shape), float(np.abs(y - 120.0).max())]
    return out
