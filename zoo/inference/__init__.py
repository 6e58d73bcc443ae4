"""One inference path: a `Predictor` over Keras and the exported runtimes, the export
sidecar, the prediction JSON, and `export` itself.

    Predictor.predict(images float32 (B, H, W, 3) RGB 0..255) -> {head: np.ndarray (B, n)}
    .label_space (data_tools.labels.LabelSpace), .image_size (H, W), .runtime, .name

`open_predictor(path)` picks the implementation by file: `.keras` (Keras, this process's
backend), `.onnx` (ONNX Runtime), `.xml` (OpenVINO), `.tflite` (LiteRT), a SavedModel
folder (TensorFlow). Module map: predictor (protocol, open_predictor), batching (the one chunker),
keras_predictor, runners (the four artifact runtimes), sidecar (the metadata format),
prediction (the prediction JSON), export / verify / float32 / torch_onnx / tf2onnx_erfc
(writing and checking artifacts). Nothing here imports a backend at module level.
"""

from zoo.inference.batching import in_batches
from zoo.inference.prediction import predict_files, prediction_json
from zoo.inference.predictor import Predictor, open_predictor
from zoo.inference.sidecar import read_sidecar, sidecar_path

__all__ = ["Predictor", "in_batches", "open_predictor", "predict_files", "prediction_json",
           "read_sidecar", "sidecar_path"]
