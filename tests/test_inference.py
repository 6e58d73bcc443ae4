"""zoo.inference's numpy parts, in-process and without a backend: the one chunker, the
prediction JSON, and `open_predictor`'s refusal of files it cannot run."""

import numpy as np
import pytest

from data_tools.labels import LabelSpace, Task


def test_in_batches_pads_a_fixed_batch_and_drops_the_padding():
    from zoo.inference.batching import in_batches

    seen = []

    def run(chunk):
        seen.append(len(chunk))
        return {"x": chunk[:, 0, 0, :1] * 2}

    images = np.arange(5, dtype=np.float32).reshape(5, 1, 1, 1).repeat(3, axis=-1)
    out = in_batches(run, images, 2)
    assert seen == [2, 2, 2]  # the last chunk (1 image) padded to the fixed batch
    np.testing.assert_array_equal(out["x"][:, 0], [0, 2, 4, 6, 8])
    seen.clear()
    assert in_batches(run, images, None)["x"].shape == (5, 1) and seen == [5]  # any batch: one call


def test_prediction_json_lists_top_k_artists_and_top_1_of_the_rest():
    from zoo.inference.prediction import prediction_json

    space = LabelSpace((Task("artist", ("a", "b", "c")), Task("movement", ("m", "n")),
                        Task("year", (), 1850.0, 100.0)))
    row = {"artist": np.array([0.1, 0.7, 0.2]), "movement": np.array([0.25, 0.75]), "year": np.array([1901.26])}
    assert prediction_json(row, space, top_k=2) == {
        "artists": [{"name": "b", "p": 0.7}, {"name": "c", "p": 0.2}],
        "movement": {"name": "n", "p": 0.75},
        "year": 1901.3,
    }


def test_open_predictor_refuses_what_it_cannot_run(tmp_path):
    from zoo.inference import open_predictor

    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ValueError, match=r"not a model this zoo can run"):
        open_predictor(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match=r"no such ONNX Runtime artifact"):
        open_predictor(tmp_path / "missing.onnx")
