"""data_tools.pipeline: labels, manifest reading, tf.data batches, caching, and model.fit
with dict targets and dict sample weights on every Keras backend.

The in-process tests use TensorFlow only (never keras, whose backend is fixed at import);
anything with keras runs in a subprocess per backend.
"""

import csv
import math
import shutil
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from data_tools.labels import LabelSpace, Task
from data_tools.pipeline import (
    balanced_stream,
    count_per_class,
    load_rows,
    make_dataset,
    steps_per_epoch,
)
from tests.conftest import run_child
from tests.fixtures_data import MANIFEST_COLUMNS, write_dataset


def row(artist, split="train", year="", movement=""):
    return {"artist": artist, "year": str(year), "movement": movement, "split": split}


# 12 rows: artist "a" x6, "b" x3 (train); val has no year and no movement anywhere.
ROWS = [
    row("a", year=1600, movement="baroque"),
    row("a", year=1610, movement="baroque"),
    row("a", year=1620),
    row("a", movement="baroque"),
    row("a", year=1630, movement="rococo"),
    row("a", year=1640, movement="rococo"),
    row("b", year=1900, movement="cubism"),
    row("b", year=1910),
    row("b"),
    row("c", split="val"),
    row("a", split="val"),
    row("b", split="test", year=2000, movement="cubism"),
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pipeline") / "ds"
    write_dataset(folder, ROWS)
    return folder


def heads(labels: LabelSpace) -> dict:
    """Task name -> class count, or "regression"."""
    return {t.name: len(t.classes) or "regression" for t in labels.tasks}


def labels_of(folder) -> LabelSpace:
    return LabelSpace.from_rows(load_rows(folder))


def batches(ds) -> list:
    """All batches of a dataset as numpy (images, targets, weights)."""
    out = []
    for images, targets, weights in ds:
        out.append(
            (
                images.numpy(),
                {k: v.numpy() for k, v in targets.items()},
                {k: v.numpy() for k, v in weights.items()},
            )
        )
    return out


def test_label_space_from_rows(data_dir):
    labels = labels_of(data_dir)
    assert labels["artist"].classes == ("a", "b", "c")  # all splits, sorted
    assert labels["movement"].classes == ("baroque", "cubism", "rococo")
    train_years = [1600, 1610, 1620, 1630, 1640, 1900, 1910]  # test split's 2000 ignored
    assert labels["year"].center == pytest.approx(np.mean(train_years))
    assert labels["year"].scale == pytest.approx(np.std(train_years))
    assert heads(labels) == {"artist": 3, "movement": 3, "year": "regression"}


def test_label_space_without_movements_or_years():
    labels = LabelSpace.from_rows([row("x"), row("y", split="val", year=1700)])
    assert "year" not in labels
    assert heads(labels) == {"artist": 2}  # val-only years do not make a year task
    one_year = LabelSpace.from_rows([row("x", year=1700), row("y", year=1700)])
    assert one_year["year"].scale == 1.0  # std floor


def test_load_rows_and_counts(data_dir):
    assert len(load_rows(data_dir)) == len(ROWS)
    train = load_rows(data_dir, "train")
    assert {r["split"] for r in train} == {"train"} and len(train) == 9
    assert count_per_class(train) == {"a": 6, "b": 3}
    assert count_per_class(load_rows(data_dir), "movement") == {
        "baroque": 3,
        "cubism": 2,
        "rococo": 2,
    }


def test_load_rows_errors(tmp_path):
    with pytest.raises(ValueError, match="no manifest.csv"):
        load_rows(tmp_path)
    (tmp_path / "manifest.csv").write_text(",".join(MANIFEST_COLUMNS) + "\n")
    with pytest.raises(ValueError, match="no rows"):
        load_rows(tmp_path)
    write_dataset(tmp_path / "ds", ROWS[:2])
    with pytest.raises(ValueError, match="valid splits are train, val, test"):
        load_rows(tmp_path / "ds", "training")


def test_make_dataset_errors(data_dir):
    labels = labels_of(data_dir)
    with pytest.raises(ValueError, match="balanced=True needs repeat=True"):
        make_dataset(data_dir, "train", labels, balanced=True)
    with pytest.raises(ValueError, match="artists not in the label space: b"):
        make_dataset(
            data_dir, "train", LabelSpace((Task("artist", ("a", "c")), Task("movement", ("baroque", "cubism", "rococo")),
                        Task("year", (), 0.0, 1.0)))
        )


def test_batches_targets_and_weights(data_dir):
    labels = labels_of(data_dir)
    out = batches(
        make_dataset(data_dir, "train", labels, image_size=(16, 24), batch_size=4, cache=False)
    )
    assert [b[0].shape for b in out] == [(4, 16, 24, 3), (4, 16, 24, 3), (1, 16, 24, 3)]
    images = np.concatenate([b[0] for b in out])
    targets = {k: np.concatenate([b[1][k] for b in out]) for k in out[0][1]}
    weights = {k: np.concatenate([b[2][k] for b in out]) for k in out[0][2]}
    assert images.dtype == np.float32 and 0 <= images.min() and images.max() <= 255
    red = images[:, :, :, 0].mean(axis=(1, 2))
    np.testing.assert_allclose(red, 10 * np.arange(9), atol=3)  # manifest order kept
    assert set(targets) == set(weights) == {"artist", "movement", "year"}
    np.testing.assert_array_equal(targets["artist"].argmax(1), [0] * 6 + [1] * 3)
    assert targets["artist"].shape == (9, 3) and targets["artist"].sum() == 9
    movement_known = np.array([1, 1, 0, 1, 1, 1, 1, 0, 0], np.float32)
    np.testing.assert_array_equal(weights["movement"], movement_known)
    np.testing.assert_array_equal(targets["movement"].sum(1), movement_known)  # missing -> zeros
    np.testing.assert_array_equal(targets["movement"].argmax(1)[[0, 4, 6]], [0, 2, 1])
    assert targets["year"].shape == (9, 1) and targets["year"].dtype == np.float32
    np.testing.assert_array_equal(
        targets["year"][:, 0], [1600, 1610, 1620, 0, 1630, 1640, 1900, 1910, 0]
    )
    np.testing.assert_array_equal(weights["year"], [1, 1, 1, 0, 1, 1, 1, 1, 0])
    np.testing.assert_array_equal(weights["artist"], np.ones(9))


def test_only_the_label_space_tasks_are_yielded(data_dir):
    no_extras = LabelSpace((Task("artist", ("a", "b", "c")),))
    (_, targets, weights), *_ = batches(
        make_dataset(data_dir, "val", no_extras, image_size=(8, 8), cache=False)
    )
    assert set(targets) == set(weights) == {"artist"}


def test_shuffle_is_seeded_and_changes_every_epoch(data_dir):
    labels = labels_of(data_dir)

    def order(ds):
        return tuple(np.concatenate([b[0][:, 0, 0, 0] for b in batches(ds)]).round(-1).astype(int))

    ds = make_dataset(
        data_dir, "train", labels, image_size=(8, 8), batch_size=3, shuffle=True, seed=3
    )
    first, second = order(ds), order(ds)
    assert sorted(first) == sorted(second) and first != second
    again = make_dataset(
        data_dir, "train", labels, image_size=(8, 8), batch_size=3, shuffle=True, seed=3
    )
    assert order(again) == first


def copy_dataset(data_dir, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(data_dir, folder)
    return folder


def test_memory_cache_skips_decoding(data_dir, tmp_path):
    folder = copy_dataset(data_dir, tmp_path)
    ds = make_dataset(folder, "train", labels_of(folder), image_size=(8, 8), cache="memory")
    first = batches(ds)
    shutil.rmtree(folder / "images")  # a second epoch that decoded would fail now
    second = batches(ds)
    np.testing.assert_array_equal(
        np.concatenate([b[0] for b in first]), np.concatenate([b[0] for b in second])
    )


def test_disk_cache_is_reused_by_a_new_dataset(data_dir, tmp_path):
    folder = copy_dataset(data_dir, tmp_path)
    labels = labels_of(folder)
    elsewhere = tmp_path / "elsewhere"  # an existing folder: the cache file goes inside
    elsewhere.mkdir()
    first = batches(make_dataset(folder, "train", labels, image_size=(8, 8), cache="disk"))
    val = batches(make_dataset(folder, "val", labels, image_size=(8, 8), cache=elsewhere))
    assert list((folder / ".cache").glob("train-8x8-*.u8"))
    assert list(elsewhere.glob("val-8x8-*.u8"))
    shutil.rmtree(folder / "images")  # new datasets that decoded would fail now
    second = batches(make_dataset(folder, "train", labels, image_size=(8, 8), cache="disk"))
    val_again = batches(make_dataset(folder, "val", labels, image_size=(8, 8), cache=elsewhere))
    for a, b in ((first, second), (val, val_again)):
        np.testing.assert_array_equal(
            np.concatenate([x[0] for x in a]), np.concatenate([x[0] for x in b])
        )


def test_balanced_sampling_evens_out_artists(data_dir):
    labels = labels_of(data_dir)  # train: 6 x "a", 3 x "b"
    ds = make_dataset(
        data_dir, "train", labels, image_size=(8, 8), batch_size=32, balanced=True, repeat=True
    )
    artists = np.concatenate([b[1]["artist"].argmax(1) for b in batches(ds.take(10))])
    share_b = float(np.mean(artists == 1))
    assert 0.4 < share_b < 0.6, share_b  # unbalanced data gives 1/3
    assert set(artists.tolist()) == {0, 1}


def test_balanced_sampler_still_draws_rows_without_an_artist():
    """Rows without an artist (protocol artgan-genre) are drawn, as one stream of their own."""
    classes = np.array([0, 0, 0, 1, -1, -1], np.int32)
    drawn = Counter(int(i) for i in balanced_stream(classes, seed=0, shard=None).take(600).as_numpy_iterator())
    assert set(drawn) == set(range(6))  # every row, the unlabelled ones as one stream of their own
    per_stream = [sum(drawn[i] for i in g) for g in ((0, 1, 2), (3,), (4, 5))]
    assert all(150 <= n <= 250 for n in per_stream), per_stream




def test_fit_with_dict_targets_and_sample_weights(backend, data_dir):
    out = run_child(backend, "pipeline:fit_dict_targets", data_dir=str(data_dir))
    assert math.isfinite(out["loss"]) and out["loss"] > 0
    ev = out["eval"]
    # val has no movement and no year: their weights are all 0, so those losses vanish
    assert ev["movement_loss"] == 0.0 and ev["year_loss"] == 0.0, ev
    assert ev["artist_loss"] > 0 and ev["loss"] == pytest.approx(ev["artist_loss"], rel=1e-5)


def test_steps_for_a_repeated_dataset(data_dir):
    assert steps_per_epoch(9, 4) == 3 and steps_per_epoch(0, 4) == 1
    ds = make_dataset(
        data_dir, "train", labels_of(data_dir), image_size=(8, 8), batch_size=4, repeat=True
    )
    assert len(batches(ds.take(5))) == 5


def year_order(ds) -> np.ndarray:
    """The year targets of one pass, in stream order (rows are told apart by their year)."""
    return np.concatenate([b[1]["year"][:, 0] for b in batches(ds)])


def write_many(folder, n: int) -> None:
    """n train rows of one artist pair, all on one small JPEG, row i with year 1000 + i."""
    write_dataset(folder, [row("a"), row("b")])
    with open(folder / "manifest.csv", "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_COLUMNS)
        for i in range(n):
            writer.writerow({"image_id": f"m{i}", "path": "images/000.jpg", "artist": "ab"[i % 2],
                             "year": 1000 + i, "movement": "", "split": "train",
                             "sha1": "0" * 40, "source": "test"})  # fmt: skip


@pytest.mark.parametrize("cache", [False, "memory"])
def test_every_epoch_reshuffles_the_whole_split(tmp_path, cache):
    folder = tmp_path / "many"
    write_many(folder, 3000)
    labels = labels_of(folder)
    ds = make_dataset(folder, "train", labels, image_size=(4, 4), batch_size=500, shuffle=True,
                      cache=cache, seed=1)  # fmt: skip
    first, second = year_order(ds), year_order(ds)
    assert len(first) == 3002 and sorted(first) == sorted(second)
    position = lambda order: np.argsort(order)  # noqa: E731  (row -> its place in the epoch)
    corr = np.corrcoef(position(first), position(second))[0, 1]
    assert abs(corr) < 0.1, corr  # one permutation + a 1024 buffer: 0.38 (0.987 at 30k rows)
    manifest_order = np.corrcoef(position(first), np.arange(3002))[0, 1]
    assert abs(manifest_order) < 0.1, manifest_order


def test_disk_cache_returns_edited_labels(data_dir, tmp_path):
    folder = copy_dataset(data_dir, tmp_path)
    ds = make_dataset(folder, "train", labels_of(folder), image_size=(8, 8), cache="disk")
    years = np.concatenate([b[1]["year"][:, 0] for b in batches(ds)])
    text = (folder / "manifest.csv").read_text().replace(",1610,", ",1611,")
    (folder / "manifest.csv").write_text(text)
    again = make_dataset(folder, "train", labels_of(folder), image_size=(8, 8), cache="disk")
    new_years = np.concatenate([b[1]["year"][:, 0] for b in batches(again)])
    assert len(list((folder / ".cache").glob("*.u8"))) == 1  # the pixels were reused
    assert years[1] == 1610 and new_years[1] == 1611


@pytest.mark.parametrize("cache", [False, "memory"])
def test_padding_gives_equal_full_shards_and_every_row_once(data_dir, cache):
    """9 train rows, global batch 4 over 2 processes: 12 rows, 3 padding, 6 per process."""
    labels = labels_of(data_dir)
    seen, shapes = [], []
    for process in (0, 1):
        ds = make_dataset(data_dir, "train", labels, image_size=(8, 8), batch_size=2,
                          shuffle=True, seed=5, cache=cache, pad_to=4, shard=(2, process))  # fmt: skip
        out = batches(ds)
        shapes.append([b[0].shape[0] for b in out])
        for images, _, weights in out:
            pad = weights["artist"] == 0
            assert all((w[pad] == 0).all() for w in weights.values())  # no head counts padding
            seen += [None if p else round(red / 10) for red, p in zip(images[:, 0, 0, 0], pad, strict=True)]
    assert shapes == [[2, 2, 2], [2, 2, 2]]
    assert sorted(r for r in seen if r is not None) == list(range(9)) and seen.count(None) == 3


def noisy_jpeg(path, seed: int, size=(300, 200), **save) -> None:
    """A smooth-plus-noise photo-like RGB image (width, height = size) saved as JPEG."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 200, size[0])[None, :, None] + rng.normal(0, 30, (size[1], size[0], 3))
    Image.fromarray(np.clip(ramp, 0, 255).astype(np.uint8)).save(path, quality=90, **save)


def test_load_image_is_what_the_pipeline_feeds(data_dir, tmp_path):
    import tensorflow as tf

    from data_tools import images as images_lib
    from data_tools.decode import BadImage, decode_jpeg, load_image

    folder = copy_dataset(data_dir, tmp_path)
    for i in range(9):  # train rows: photo-sized images, so DCT scaling and resizing matter
        noisy_jpeg(folder / f"images/{i:03d}.jpg", i)
    ds = make_dataset(folder, "train", labels_of(folder), image_size=(32, 48), cache=False)
    images = np.concatenate([b[0] for b in batches(ds)])
    mine = np.stack([load_image(folder / f"images/{i:03d}.jpg", (32, 48)) for i in range(9)])
    assert mine.dtype == np.float32 and mine.shape == (9, 32, 48, 3)
    assert np.abs(mine - images).mean() == 0.0
    as_bytes = load_image((folder / "images/004.jpg").read_bytes(), (32, 48))
    np.testing.assert_array_equal(as_bytes, images[4])

    # user files that ingest must clean: EXIF-rotated (as phones write it), CMYK, PNG;
    # the dataset holds ingest's output, predict gets the original file
    exif = Image.Exif()
    exif[0x0112] = 6
    originals = [tmp_path / "rotated.jpg", tmp_path / "cmyk.jpg", tmp_path / "p.png"]
    noisy_jpeg(originals[0], 20, size=(640, 360), exif=exif.tobytes())
    Image.open(originals[0]).convert("CMYK").save(originals[1])
    noisy_jpeg(tmp_path / "p.jpg", 21)
    Image.open(tmp_path / "p.jpg").save(originals[2])
    for i, original in enumerate(originals):
        (folder / f"images/{i:03d}.jpg").write_bytes(images_lib.to_jpeg(original.read_bytes(), 512))
    ds = make_dataset(folder, "train", labels_of(folder), image_size=(32, 48), cache=False)
    trained = np.concatenate([b[0] for b in batches(ds)])[:3]
    predicted = np.stack([load_image(p, (32, 48)) for p in originals])
    assert np.abs(predicted - trained).mean() == 0.0
    sideways = decode_jpeg(tf.constant(originals[0].read_bytes()), (32, 48)).numpy()
    assert np.abs(predicted[0] - sideways).mean() > 10  # EXIF ignored: what predict used to see
    (tmp_path / "bad.jpg").write_bytes(b"<html>not an image</html>")
    for bad, message in ((tmp_path / "bad.jpg", "not an image"), (tmp_path / "nope.jpg", "")):
        with pytest.raises(BadImage, match=f"cannot read image: .*{message}") as err:
            load_image(bad, (8, 8))
        assert "\n" not in str(err.value)




@pytest.mark.slow  # ~45-80 s (vit_tiny16 on JAX); the fast pixel-level check is above
def test_predict_equals_evaluate_for_the_same_file(tmp_path):
    """predict (any user file) = evaluate (the ingested copy) within 1e-5: a photo-sized
    JPEG, an EXIF-rotated one (orientation 6, as phones write it), a PNG and a CMYK JPEG."""
    src = tmp_path / "photos"
    for artist in ("Ann", "Bo"):
        (src / artist).mkdir(parents=True)
        for i in range(3):
            noisy_jpeg(src / artist / f"p{i}.jpg", hash((artist, i)) % 1000)
    exif = Image.Exif()
    exif[0x0112] = 6
    noisy_jpeg(src / "Ann" / "rotated.jpg", 7, size=(640, 360), exif=exif.tobytes())
    noisy_jpeg(src / "Bo" / "png.jpg", 8)
    Image.open(src / "Bo" / "png.jpg").save(src / "Bo" / "png.png")
    Image.open(src / "Ann" / "rotated.jpg").convert("CMYK").save(src / "Bo" / "cmyk.jpg")
    (src / "Bo" / "png.jpg").unlink()
    out = run_child("jax", "pipeline:predict_equals_evaluate", src=str(src), out=str(tmp_path / "data"))
    assert len(out) == 9 and "photos/Ann/rotated.jpg" in out, out
    for source, r in out.items():
        assert r["diff"] < 1e-5 and r["top_matches"], (source, r)
