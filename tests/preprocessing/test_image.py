"""Tests for plait.preprocessing.image: ImageDataGenerator and its PyDatasets.

Keras's numbers for the same calls are in `test_image_parity.py`; these check the
warp against SciPy itself, the iterators as `fit` data, the options, and every
error message.
"""

import itertools
import os
import pickle
import sys

import numpy as np
import pytest

import plait
from plait import layers
from plait.preprocessing import image
from plait.preprocessing.affine import apply_affine_transform, warp
from plait.preprocessing.image import ImageDataGenerator


def images(n=8, shape=(5, 6, 3), seed=0):
    return (np.random.RandomState(seed).rand(n, *shape) * 255).astype("float32")


@pytest.mark.parametrize(
    ("order", "mode"), list(itertools.product((0, 1), image.FILL_MODES))
)
def test_warp_equals_scipy_affine_transform(order, mode):
    ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(0)
    for trial in range(60):
        h, w = (int(v) for v in rng.integers(1, 9, size=2))
        img = (rng.random((h, w)) * 255).astype("float32")
        matrix = rng.normal(size=(2, 2)) * rng.choice([0.5, 1, 3])
        if trial % 4 == 0:  # zooms and flips land on sample ties
            matrix = np.diag(rng.choice([0.5, 2.0, 1.0, -1.0], 2))
        offset = rng.normal(size=2) * rng.choice([1, 5, 20])
        if trial % 3 == 0:
            offset = np.round(offset * 2) / 2
        expected = ndimage.affine_transform(
            img, matrix, offset, order=order, mode=mode, cval=7.0
        )
        got = warp(img, matrix, offset, order=order, mode=mode, cval=7.0)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-3)


def test_warp_and_affine_errors():
    with pytest.raises(ValueError, match="warp: expected `order` 0 or 1, got 3"):
        warp(np.zeros((2, 2)), np.eye(2), np.zeros(2), order=3)
    with pytest.raises(ValueError, match=r"warp: expected `mode` in .*, got 'mirror'"):
        warp(np.zeros((2, 2)), np.eye(2), np.zeros(2), mode="mirror")
    with pytest.raises(
        ValueError,
        match="expected `row_axis`, `col_axis` and `channel_axis` to be 0, 1 and 2",
    ):
        apply_affine_transform(np.zeros((2, 2, 1)), theta=1, row_axis=0, col_axis=0)
    with pytest.raises(
        ValueError, match=r"expected one image of rank 3, got shape \(2, 2\)"
    ):
        apply_affine_transform(np.zeros((2, 2)), theta=1)
    with pytest.raises(ValueError, match="expected `channel_axis` 0 or 2, got 1"):
        apply_affine_transform(
            np.zeros((2, 2, 2)), theta=1, row_axis=0, col_axis=2, channel_axis=1
        )


def test_identity_transform_and_flips():
    x = images(1)[0]
    gen = ImageDataGenerator()
    np.testing.assert_array_equal(gen.apply_transform(x, {}), x)
    flipped = gen.apply_transform(x, {"flip_horizontal": True, "flip_vertical": True})
    np.testing.assert_array_equal(flipped, x[::-1, ::-1])
    shifted = ImageDataGenerator(
        fill_mode="constant", interpolation_order=0
    ).apply_transform(x, {"tx": 1, "ty": 2})
    # Keras: tx moves along the columns (x), ty along the rows (y)
    np.testing.assert_array_equal(shifted[:-2, :-1], x[2:, 1:])
    np.testing.assert_array_equal(shifted[-2:], 0.0)
    np.testing.assert_array_equal(shifted[:, -1], 0.0)


def test_brightness_without_pillow_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    gen = ImageDataGenerator(brightness_range=(0.5, 1.5))
    with pytest.raises(
        ImportError,
        match=r"apply_brightness_shift: expected Pillow .* pip install pillow",
    ):
        gen.random_transform(images(1)[0])


def test_seeded_flow_repeats_and_seeds_differ():
    x, y = images(), np.arange(8) % 2
    gen = ImageDataGenerator(rotation_range=30, zoom_range=0.2, horizontal_flip=True)
    a = gen.flow(x, y, batch_size=4, seed=1)[0]
    b = gen.flow(x, y, batch_size=4, seed=1)[0]
    c = gen.flow(x, y, batch_size=4, seed=2)[0]
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    assert gen.random_transform(x[0], seed=3).shape == x[0].shape
    np.testing.assert_array_equal(
        gen.random_transform(x[0], seed=3), gen.random_transform(x[0], seed=3)
    )


def test_flow_batches_inputs_targets_and_weights():
    x, y, sw = images(), np.arange(8), np.linspace(0, 1, 8)
    extra = np.arange(16.0).reshape(8, 2)
    it = ImageDataGenerator().flow(
        [x, extra], y, batch_size=3, shuffle=False, sample_weight=sw
    )
    assert len(it) == 3
    (batch, side), targets, weights = it[2]
    np.testing.assert_array_equal(batch, x[6:])
    np.testing.assert_array_equal(side, extra[6:])
    np.testing.assert_array_equal(targets, y[6:])
    np.testing.assert_array_equal(weights, sw[6:])
    only_x = ImageDataGenerator(rescale=0.5).flow(x, batch_size=8, shuffle=False)[0]
    np.testing.assert_allclose(only_x, x * 0.5)
    endless = ImageDataGenerator().flow(x, batch_size=3, shuffle=False)
    assert [len(next(endless)) for _ in range(4)] == [
        3,
        3,
        2,
        3,
    ]  # Keras: next() cycles
    with pytest.raises(
        IndexError, match="NumpyArrayIterator: expected a batch index below 3, got 3"
    ):
        it[3]


def test_flow_subsets_split_the_samples():
    x, y = images(), np.array([0, 1] * 4)
    gen = ImageDataGenerator(validation_split=0.25)
    train = gen.flow(x, y, batch_size=8, shuffle=False, subset="training")
    val = gen.flow(x, y, batch_size=8, shuffle=False, subset="validation")
    np.testing.assert_array_equal(train[0][0], x[2:])
    np.testing.assert_array_equal(val[0][0], x[:2])
    with pytest.raises(
        ValueError,
        match="expected the training and validation subsets to hold the same classes",
    ):
        gen.flow(x, np.array([0, 0, 1, 1, 1, 1, 1, 1]), subset="training")
    assert (
        len(
            gen.flow(
                x,
                np.array([0, 0] + [1] * 6),
                subset="training",
                ignore_class_split=True,
            )
        )
        == 1
    )


def test_fit_on_a_flow_with_validation_subset():
    x, y = images(16, (6, 6, 3)), np.array([0, 1] * 8)
    gen = ImageDataGenerator(
        rescale=1 / 255, rotation_range=10, horizontal_flip=True, validation_split=0.25
    )
    inputs = plait.Input(shape=(6, 6, 3))
    model = plait.Model(
        inputs, layers.Dense(2, activation="softmax")(layers.Flatten()(inputs))
    )
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        gen.flow(x, y, batch_size=4, seed=0, subset="training"),
        validation_data=gen.flow(x, y, batch_size=4, subset="validation"),
        epochs=2,
        verbose=0,
    )
    assert len(history.history["val_loss"]) == 2
    assert model.predict(gen.flow(x, batch_size=5, shuffle=False), verbose=0).shape == (
        16,
        2,
    )


def test_fit_statistics_and_standardize():
    x = images(6, (4, 5, 3))
    gen = ImageDataGenerator(
        featurewise_center=True, featurewise_std_normalization=True
    )
    gen.fit(x)
    assert gen.mean.shape == (1, 1, 3)
    out = np.stack([gen.standardize(v.copy()) for v in x])
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1.0, atol=1e-4)
    first = ImageDataGenerator(featurewise_center=True, data_format="channels_first")
    first.fit(x.transpose(0, 3, 1, 2))
    assert first.mean.shape == (3, 1, 1)
    zca = ImageDataGenerator(featurewise_center=True, zca_whitening=True)
    zca.fit(x)
    assert zca.zca_whitening_matrix.shape == (60, 60)
    called = []
    fn = ImageDataGenerator(preprocessing_function=lambda v: called.append(1) or v * 2)
    np.testing.assert_allclose(fn.standardize(x[0].copy()), x[0] * 2)
    assert called == [1]


def test_generator_warnings():
    with pytest.warns(
        UserWarning, match="`zca_whitening` turns on `featurewise_center`"
    ):
        ImageDataGenerator(zca_whitening=True)
    with pytest.warns(
        UserWarning, match="`zca_whitening` turns off `featurewise_std_normalization`"
    ):
        ImageDataGenerator(
            zca_whitening=True,
            featurewise_center=True,
            featurewise_std_normalization=True,
        )
    with pytest.warns(
        UserWarning,
        match="`featurewise_std_normalization` turns on `featurewise_center`",
    ):
        ImageDataGenerator(featurewise_std_normalization=True)
    with pytest.warns(
        UserWarning, match="`samplewise_std_normalization` turns on `samplewise_center`"
    ):
        ImageDataGenerator(samplewise_std_normalization=True)
    with pytest.warns(
        UserWarning,
        match="`featurewise_center` is set but the generator has not been fit",
    ):
        ImageDataGenerator(featurewise_center=True).standardize(images(1)[0])
    with pytest.warns(
        UserWarning,
        match=r"expected 1, 3 or 4 channels on axis 3 .* got shape \(2, 4, 4, 2\)",
    ):
        ImageDataGenerator().fit(np.zeros((2, 4, 4, 2)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fill_mode": "mirror"}, "expected `fill_mode` in .*, got 'mirror'"),
        ({"interpolation_order": 3}, "expected `interpolation_order` 0 or 1, got 3"),
        (
            {"validation_split": 1.0},
            "expected `validation_split` strictly between 0 and 1, got 1.0",
        ),
        (
            {"brightness_range": 0.5},
            "expected `brightness_range` a pair of floats, got 0.5",
        ),
        (
            {"zoom_range": [0.5, 1, 2]},
            r"expected `zoom_range` a float or a pair of floats, got \[0.5, 1, 2\]",
        ),
        (
            {"data_format": "nhwc"},
            "expected `data_format` 'channels_last' or 'channels_first', got 'nhwc'",
        ),
    ],
)
def test_generator_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=f"ImageDataGenerator: {match}"):
        ImageDataGenerator(**kwargs)


def test_flow_argument_errors():
    gen = ImageDataGenerator(validation_split=0.5)
    with pytest.raises(
        ValueError,
        match=r"ImageDataGenerator.fit: expected images of rank 4, got shape \(2, 2\)",
    ):
        gen.fit(np.zeros((2, 2)))
    with pytest.raises(
        ValueError,
        match=r"NumpyArrayIterator: expected images of rank 4, got shape \(4, 2\)",
    ):
        gen.flow(np.zeros((4, 2)))
    with pytest.raises(
        ValueError,
        match=r"NumpyArrayIterator: expected `y` of length 8 .the images., got 3",
    ):
        gen.flow(images(), np.zeros(3))
    with pytest.raises(
        ValueError,
        match="expected `subset` 'training', 'validation' or None, got 'test'",
    ):
        gen.flow(images(), subset="test")
    with pytest.raises(
        ValueError,
        match="NumpyArrayIterator: expected the arrays of `x` to have one length, got 8 and 2",
    ):
        gen.flow([images(), np.zeros(2)])
    with pytest.raises(
        ValueError,
        match="NumpyArrayIterator: expected a positive int `batch_size`, got 0",
    ):
        gen.flow(images(), batch_size=0)


def test_iterators_pickle_for_worker_processes():
    it = ImageDataGenerator(rotation_range=20).flow(
        images(), np.arange(8), batch_size=4, seed=5
    )
    copy = pickle.loads(pickle.dumps(it))
    np.testing.assert_array_equal(copy[1][0], it[1][0])
    assert next(copy)[0].shape == (4, 5, 6, 3)


# Python 3.12+ warns when forking a process that runs threads (torch's).
@pytest.mark.slow
@pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded:DeprecationWarning"
)
def test_flow_on_worker_processes_trains():
    x, y = images(12, (4, 4, 3)), np.arange(12) % 2
    it = ImageDataGenerator(rotation_range=10).flow(x, y, batch_size=4, seed=0)
    it.workers, it.use_multiprocessing = 2, True
    inputs = plait.Input(shape=(4, 4, 3))
    model = plait.Model(
        inputs, layers.Dense(2, activation="softmax")(layers.Flatten()(inputs))
    )
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert len(model.fit(it, epochs=2, verbose=0).history["loss"]) == 2


@pytest.mark.slow
@pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded:DeprecationWarning"
)
def test_flow_on_worker_processes_gives_every_sample_once_per_epoch():
    from plait.utils.pydataset import epoch_batches

    x, y = images(24, (2, 2, 1)), np.arange(24)
    it = ImageDataGenerator().flow(x, y, batch_size=2)  # shuffled, no seed
    it.workers, it.use_multiprocessing = 3, True
    passes = epoch_batches(it)
    for _ in range(2):
        seen = np.concatenate([batch[1] for batch in passes])
        assert sorted(seen.tolist()) == list(range(24))


# --- files ---------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path):
    pytest.importorskip("PIL", reason="image files need Pillow")
    rng = np.random.RandomState(0)
    for name, count in {"cats": 3, "dogs": 2}.items():
        (tmp_path / name).mkdir()
        for i in range(count):
            image.save_img(
                tmp_path / name / f"{i}.png",
                rng.randint(0, 256, (5, 7, 3)),
                scale=False,
            )
    return tmp_path


@pytest.mark.parametrize(
    ("class_mode", "y_shape"),
    [
        ("categorical", (5, 2)),
        ("binary", (5,)),
        ("sparse", (5,)),
        ("input", (5, 4, 4, 3)),
        (None, None),
    ],
)
def test_flow_from_directory_class_modes(tree, class_mode, y_shape, capsys):
    it = ImageDataGenerator().flow_from_directory(
        tree, target_size=(4, 4), class_mode=class_mode, batch_size=5, shuffle=False
    )
    assert capsys.readouterr().out == "Found 5 images belonging to 2 classes.\n"
    assert it.class_indices == {"cats": 0, "dogs": 1}
    assert it.filenames == [
        os.path.join(c, f"{i}.png")
        for c, n in (("cats", 3), ("dogs", 2))
        for i in range(n)
    ]
    batch = it[0]
    if class_mode is None:
        assert batch.shape == (5, 4, 4, 3)
        return
    assert batch[0].shape == (5, 4, 4, 3)
    assert batch[1].shape == y_shape
    if class_mode == "sparse":
        assert batch[1].tolist() == [0, 0, 0, 1, 1]


def test_flow_from_directory_saves_and_rejects(tree, tmp_path_factory, capsys):
    out = tmp_path_factory.mktemp("saved")
    gen = ImageDataGenerator(horizontal_flip=True)
    it = gen.flow_from_directory(
        tree,
        target_size=(4, 4),
        batch_size=2,
        save_to_dir=str(out),
        save_prefix="aug",
        seed=0,
    )
    it[0]
    assert len(os.listdir(out)) == 2
    assert all(
        name.startswith("aug_") and name.endswith(".png") for name in os.listdir(out)
    )
    with pytest.raises(
        ValueError, match=r"DirectoryIterator: expected `class_mode` in .*, got 'raw'"
    ):
        gen.flow_from_directory(tree, class_mode="raw")
    with pytest.raises(
        ValueError, match=r"DirectoryIterator: expected `color_mode` in .*, got 'cmyk'"
    ):
        gen.flow_from_directory(tree, color_mode="cmyk")
    with pytest.raises(
        TypeError, match=r"DirectoryIterator: unexpected keyword arguments \['colour'\]"
    ):
        image.DirectoryIterator(str(tree), gen, colour="red")


def test_flow_from_dataframe(tree, capsys):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "filename": ["cats/0.png", "dogs/1.png", "cats/2.png", "missing.png"],
            "class": ["cat", "dog", "cat", "dog"],
            "tags": [["cat", "pet"], ["dog"], ["pet"], ["dog"]],
            "score": [0.5, 1.5, 2.5, 3.5],
            "w": [1.0, 2.0, 3.0, 4.0],
        }
    )
    gen = ImageDataGenerator()
    with pytest.warns(
        UserWarning, match='ignoring 1 invalid image file name.s. in x_col="filename"'
    ):
        it = gen.flow_from_dataframe(
            df,
            str(tree),
            target_size=(4, 4),
            shuffle=False,
            weight_col="w",
            batch_size=3,
        )
    assert (
        capsys.readouterr().out
        == "Found 3 validated image filenames belonging to 2 classes.\n"
    )
    x, y, w = it[0]
    assert x.shape == (3, 4, 4, 3)
    assert y.tolist() == [[1, 0], [0, 1], [1, 0]]
    assert w.tolist() == [1.0, 2.0, 3.0]
    with pytest.warns(UserWarning, match="ignoring 1 invalid"):
        multi = gen.flow_from_dataframe(
            df, str(tree), y_col="tags", target_size=(4, 4), shuffle=False
        )
    assert multi[0][1].tolist() == [[1, 0, 1], [0, 1, 0], [0, 0, 1]]
    with pytest.warns(DeprecationWarning, match='class_mode="other" is deprecated'):
        raw = gen.flow_from_dataframe(
            df,
            str(tree),
            y_col="score",
            class_mode="other",
            validate_filenames=False,
            shuffle=False,
        )
    assert raw.class_mode == "raw"
    with pytest.warns(UserWarning, match="ignoring 1 invalid"):
        picked = gen.flow_from_dataframe(
            df, str(tree), classes=["dog"], target_size=(4, 4), shuffle=False
        )
    assert picked.filenames == ["dogs/1.png"]
    with pytest.raises(
        TypeError,
        match=r"flow_from_dataframe: unexpected keyword arguments \['colour'\]",
    ):
        gen.flow_from_dataframe(df, colour="red")
    with pytest.warns(DeprecationWarning, match="`sort` is deprecated and ignored"):
        gen.flow_from_dataframe(df, str(tree), sort=True, validate_filenames=False)
    with pytest.raises(
        TypeError,
        match="expected a list `y_col` with class_mode='multi_output', got str",
    ):
        gen.flow_from_dataframe(df, class_mode="multi_output")
    with pytest.raises(
        ValueError, match="expected 2 classes with class_mode='binary', got 3"
    ):
        gen.flow_from_dataframe(df, class_mode="binary", classes=["a", "b", "c"])
    with pytest.raises(
        TypeError,
        match="expected str values in column y_col='tags' with class_mode='sparse'",
    ):
        gen.flow_from_dataframe(df, y_col="tags", class_mode="sparse")
