"""Outlier exposure (issue 20): "Unknown Artist" rows are no artist class and train the artist
head towards a uniform output with the recipe's weight (`data_tools.pipeline`, TensorFlow only)."""

import numpy as np
import pytest

from data_tools.labels import OUT_OF_SET, OUT_OF_SET_CODE, LabelSpace
from data_tools.pipeline import load_rows, make_dataset
from tests.fixtures_data import write_dataset


def row(artist, split="train"):
    return {"artist": artist, "year": "1900", "movement": "", "split": split}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oe") / "ds"
    write_dataset(folder, [row("a"), row("b"), row("c"), row(OUT_OF_SET), row(OUT_OF_SET), row("a", "val")])
    return folder


def test_unknown_artist_rows_are_no_class_and_get_a_uniform_target(data_dir):
    rows = load_rows(data_dir)
    assert OUT_OF_SET in LabelSpace.from_rows(rows)["artist"].classes  # as before, without outlier exposure
    labels = LabelSpace.from_rows(rows, out_of_set=True)
    assert labels["artist"].classes == ("a", "b", "c")
    assert labels.encode(rows)["artist"].tolist() == [0, 1, 2, OUT_OF_SET_CODE, OUT_OF_SET_CODE, 0]
    for weight in (0.0, 0.5):
        (_, targets, weights), = make_dataset(data_dir, "train", labels, image_size=(8, 8), batch_size=8,
                                              cache=False, outlier_weight=weight).as_numpy_iterator()
        np.testing.assert_allclose(targets["artist"][3:], np.full((2, 3), 1 / 3), rtol=1e-6)
        np.testing.assert_allclose(targets["artist"][:3], np.eye(3))
        assert weights["artist"].tolist() == [1, 1, 1, weight, weight]
        assert weights["year"].tolist() == [1] * 5  # the other heads train on these rows as usual
