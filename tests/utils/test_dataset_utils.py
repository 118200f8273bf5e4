"""Tests for plait.utils.dataset_utils: image and text datasets read from folders.

Keras's files, labels, class names and split for the same seeds are checked in
`tests/preprocessing/test_image_parity.py`; these check the batches, the options,
training on the datasets, and every error message.
"""

import numpy as np
import pytest

import plait
from plait import layers
from plait.utils import (
    image_dataset_from_directory,
    save_img,
    text_dataset_from_directory,
)

pytest.importorskip("PIL", reason="image files need Pillow")

CLASSES = {"cats": 5, "dogs": 4, "owls": 3}


@pytest.fixture
def images(tmp_path):
    rng = np.random.RandomState(0)
    for name, count in CLASSES.items():
        (tmp_path / name).mkdir()
        for i in range(count):
            shape = (6 + i % 3, 9 - i % 2, 3)
            save_img(
                tmp_path / name / f"{i}.png", rng.randint(0, 256, shape), scale=False
            )
    (tmp_path / "cats" / "readme.txt").write_text("not an image")
    return tmp_path


@pytest.fixture
def texts(tmp_path):
    words = {
        "pos": ["good fine great", "great film", "fine fine"],
        "neg": ["bad dull", "awful bad", "dull dull film"],
    }
    for label, docs in words.items():
        (tmp_path / label).mkdir()
        for i, doc in enumerate(docs):
            (tmp_path / label / f"{i}.txt").write_text(doc)
    return tmp_path


@pytest.mark.parametrize(
    ("label_mode", "y_shape", "y_dtype"),
    [
        ("int", (4,), "int32"),
        ("categorical", (4, 3), "float32"),
        ("binary", None, None),
        (None, None, None),
    ],
)
def test_image_batches_per_label_mode(images, label_mode, y_shape, y_dtype):
    if label_mode == "binary":
        with pytest.raises(
            ValueError,
            match=r"expected 2 classes with label_mode='binary', got class_names=\['cats', 'dogs', 'owls'\]",
        ):
            image_dataset_from_directory(images, label_mode="binary", verbose=False)
        return
    ds = image_dataset_from_directory(
        images,
        label_mode=label_mode,
        image_size=(5, 7),
        batch_size=4,
        seed=1,
        verbose=False,
    )
    # Keras: no labels, no class names
    assert ds.class_names == (None if label_mode is None else ["cats", "dogs", "owls"])
    assert len(ds.file_paths) == 12
    assert len(ds) == 3
    batch = ds[0]
    x = batch if label_mode is None else batch[0]
    assert x.shape == (4, 5, 7, 3)
    assert x.dtype == np.float32
    assert x.min() >= 0
    assert x.max() <= 255
    if label_mode is not None:
        assert batch[1].shape == y_shape
        assert batch[1].dtype == y_dtype


def test_image_options_shapes(images):
    one = image_dataset_from_directory(
        images,
        batch_size=None,
        image_size=4,
        color_mode="grayscale",
        shuffle=False,
        verbose=False,
    )
    x, y = one[0]
    assert x.shape == (4, 4, 1)
    assert y == 0
    assert one.file_paths == sorted(one.file_paths)
    first = image_dataset_from_directory(
        images,
        image_size=(3, 5),
        color_mode="rgba",
        data_format="channels_first",
        verbose=False,
    )
    assert first[0][0].shape == (12, 4, 3, 5)
    named = image_dataset_from_directory(
        images, class_names=["owls", "cats"], verbose=False
    )
    assert named.class_names == ["owls", "cats"]
    assert len(named.file_paths) == 8
    assert set(named.labels.tolist()) == {0, 1}
    given = image_dataset_from_directory(
        images, labels=list(range(12)), shuffle=False, verbose=False
    )
    assert given.class_names == [str(i) for i in range(12)]


def test_crop_and_pad_to_aspect_ratio(tmp_path):
    (tmp_path / "a").mkdir()
    x = np.zeros((4, 8, 3), "float32")
    x[:, 2:6] = 200.0  # a bright centre square
    save_img(tmp_path / "a" / "x.png", x, scale=False)

    def first_image(size, **option):
        ds = image_dataset_from_directory(
            tmp_path, image_size=size, interpolation="nearest", verbose=False, **option
        )
        return ds[0][0][0]

    crop = first_image((4, 4), crop_to_aspect_ratio=True)
    np.testing.assert_array_equal(crop, x[:, 2:6])
    padded = first_image((8, 8), pad_to_aspect_ratio=True)
    np.testing.assert_array_equal(padded[:2], 0.0)  # zero bands above and below
    np.testing.assert_array_equal(padded[2:6], x)


def split_both(images, **kwargs):
    return image_dataset_from_directory(
        images, validation_split=0.25, subset="both", seed=3, verbose=False, **kwargs
    )


def test_split_both_is_disjoint_and_training_reshuffles(images):
    train, val = split_both(images, batch_size=2)
    assert len(train.file_paths) == 9
    assert len(val.file_paths) == 3
    assert not set(train.file_paths) & set(val.file_paths)
    assert train.class_names == val.class_names == ["cats", "dogs", "owls"]
    first = np.concatenate([train[i][1] for i in range(len(train))])
    train.on_epoch_end()
    second = np.concatenate([train[i][1] for i in range(len(train))])
    assert sorted(first.tolist()) == sorted(second.tolist())
    assert first.tolist() != second.tolist()
    before = val[0][1].tolist()
    val.on_epoch_end()
    assert val[0][1].tolist() == before


def test_image_dataset_trains_a_model(images):
    train, val = split_both(images, image_size=(4, 4), batch_size=4)
    inputs = plait.Input(shape=(4, 4, 3))
    outputs = layers.Dense(3, activation="softmax")(
        layers.Flatten()(layers.Rescaling(1 / 255)(inputs))
    )
    model = plait.Model(inputs, outputs)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert set(history.history) >= {"loss", "val_loss", "val_accuracy"}
    assert model.predict(val, verbose=0).shape == (3, 3)
    assert len(model.evaluate(val, verbose=0)) == 2


def test_text_dataset_feeds_a_string_model(texts):
    ds = text_dataset_from_directory(texts, batch_size=4, seed=0, verbose=False)
    x, y = ds[0]
    assert ds.class_names == ["neg", "pos"]
    assert x.shape == (4,)
    assert y.dtype == np.int32
    assert all(isinstance(t, str) for t in x)
    cut = text_dataset_from_directory(
        texts, max_length=4, shuffle=False, verbose=False, label_mode=None
    )
    assert cut[0].tolist() == ["bad ", "awfu", "dull", "good", "grea", "fine"]
    vectorize = layers.TextVectorization(output_sequence_length=4)
    vectorize.adapt(np.concatenate([ds[i][0] for i in range(len(ds))]))
    inputs = plait.Input(shape=(1,), dtype="string")
    h = layers.GlobalAveragePooling1D()(
        layers.Embedding(vectorize.vocabulary_size(), 4)(vectorize(inputs))
    )
    model = plait.Model(inputs, layers.Dense(1, activation="sigmoid")(h))
    model.compile("adam", "binary_crossentropy")
    binary = text_dataset_from_directory(
        texts, label_mode="binary", batch_size=3, seed=0, verbose=False
    )
    assert binary[0][1].shape == (3, 1)
    history = model.fit(binary, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(binary, verbose=0).shape == (6, 1)


def test_verbose_prints_counts(images, capsys):
    image_dataset_from_directory(
        images, validation_split=0.25, subset="training", seed=1
    )
    assert capsys.readouterr().out.splitlines() == [
        "Found 12 files belonging to 3 classes.",
        "Using 9 files for training.",
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"label_mode": "sparse"},
            ValueError,
            "expected `label_mode` 'int', 'categorical', 'binary' or None, got 'sparse'",
        ),
        (
            {"labels": "folders"},
            ValueError,
            "expected `labels` 'inferred', None, or a list/tuple of ints, got 'folders'",
        ),
        ({"color_mode": "cmyk"}, ValueError, "expected `color_mode` in .* got 'cmyk'"),
        (
            {"image_size": (1, 2, 3)},
            ValueError,
            r"expected `image_size` a pair of ints, got \(1, 2, 3\)",
        ),
        (
            {"interpolation": "gaussian"},
            ValueError,
            "expected `interpolation` in .* got 'gaussian'",
        ),
        (
            {"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True},
            ValueError,
            "expected at most one of `crop_to_aspect_ratio`",
        ),
        (
            {"validation_split": 0.2},
            ValueError,
            "expected `subset` and `validation_split` set together",
        ),
        (
            {"validation_split": 1.5, "subset": "training"},
            ValueError,
            "expected `validation_split` between 0 and 1, got 1.5",
        ),
        (
            {"validation_split": 0.2, "subset": "test", "seed": 1},
            ValueError,
            "expected `subset` 'training', 'validation' or 'both', got 'test'",
        ),
        (
            {"validation_split": 0.2, "subset": "training"},
            ValueError,
            "expected a `seed` with `validation_split` and `shuffle=True`",
        ),
        (
            {"class_names": ["cats", "bats"]},
            ValueError,
            r"expected `class_names` among the subdirectories \['cats', 'dogs', 'owls'\], got \['cats', 'bats'\]",
        ),
        (
            {"labels": None, "class_names": ["cats"]},
            ValueError,
            "expected no `class_names` when `labels` is not 'inferred'",
        ),
        (
            {"labels": [0, 1]},
            ValueError,
            "expected one label per file .12 files .*, got 2 labels",
        ),
    ],
)
def test_image_dataset_errors(images, kwargs, error, match):
    with pytest.raises(error, match=f"image_dataset_from_directory: {match}"):
        image_dataset_from_directory(images, verbose=False, **kwargs)


def test_empty_directory_and_bad_max_length(tmp_path):
    with pytest.raises(
        ValueError,
        match=r"image_dataset_from_directory: expected files ending in .* got none for training",
    ):
        image_dataset_from_directory(tmp_path, verbose=False)
    with pytest.raises(
        ValueError,
        match="text_dataset_from_directory: expected `max_length` a positive int or None, got 0",
    ):
        text_dataset_from_directory(tmp_path, max_length=0)
