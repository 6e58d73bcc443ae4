"""The Predictor protocol, the one fixed-batch chunker, and `open_predictor`.

Every implementation (`KerasPredictor`, the runners of `zoo.inference.runners`) answers
`predict(images float32 (B, H, W, 3) RGB 0..255) -> {head: np.ndarray (B, n)}` for any B,
and carries `.label_space`, `.image_size` (H, W), `.runtime` and `.name`.
"""

from pathlib import Path
from typing import Protocol

import numpy as np

from data_tools.labels import LabelSpace


class Predictor(Protocol):
    label_space: LabelSpace
    image_size: tuple[int, int]
    runtime: str  # "keras", "onnx", "openvino", "litert", "tf_saved_model"
    name: str

    def predict(self, images: np.ndarray) -> dict[str, np.ndarray]: ...


def checked_images(images, image_size, where) -> np.ndarray:
    """`images` as float32 `(B, H, W, 3)`; ValueError naming `where` for another shape."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or tuple(images.shape[1:]) != (*image_size, 3):
        raise ValueError(f"{where}: expects images (B, {image_size[0]}, {image_size[1]}, 3), "
                         f"got {images.shape}")
    return images


def in_batches(run, images: np.ndarray, batch: int | None) -> dict[str, np.ndarray]:
    """`run(chunk) -> {head: (b, n)}` over `images` in chunks of `batch` (all at once when
    None); a short last chunk is padded with copies of its last image to `batch` (a
    fixed-batch artifact takes nothing else) and the padding's outputs are dropped."""
    if not batch or len(images) == batch:
        return {k: np.asarray(v) for k, v in run(images).items()}
    parts = []
    for start in range(0, len(images), batch):
        chunk = images[start:start + batch]
        pad = batch - len(chunk)
        out = run(np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)]) if pad else chunk)
        parts.append({k: np.asarray(v)[: len(chunk)] for k, v in out.items()})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def open_predictor(path, *, compile: bool = False) -> Predictor:
    """The Predictor for a saved model or an exported artifact, by its file: `.keras`,
    `.onnx`, `.xml` (OpenVINO IR), `.tflite`, or a SavedModel folder. ValueError otherwise."""
    path = Path(path)
    if path.suffix == ".keras":
        import zoo
        from zoo.inference.keras_predictor import KerasPredictor

        return KerasPredictor(zoo.load_model(path, compile=compile))
    from zoo.inference import runners

    fmt = runners.format_of(path)
    if fmt is None:
        raise ValueError(f"{path}: not a model this zoo can run (.keras, .onnx, .xml, .tflite "
                         f"or a SavedModel folder)")
    return runners.RUNNERS[fmt](path)
