"""The Predictor protocol and `open_predictor` (the chunker: `zoo.inference.batching`).

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


def open_predictor(path) -> Predictor:
    """The Predictor for a saved model or an exported artifact, by its file: `.keras`,
    `.onnx`, `.xml` (OpenVINO IR), `.tflite`, or a SavedModel folder. ValueError otherwise."""
    path = Path(path)
    if path.suffix == ".keras":
        import zoo
        from zoo.inference.keras_predictor import KerasPredictor

        return KerasPredictor(zoo.load_model(path, compile=False))
    from zoo.inference import runners

    fmt = runners.format_of(path)
    if fmt is None:
        raise ValueError(f"{path}: not a model this zoo can run (.keras, .onnx, .xml, .tflite "
                         f"or a SavedModel folder)")
    return runners.RUNNERS[fmt](path)
