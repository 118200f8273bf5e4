import hashlib
import json

import numpy as np
import pytest

from plait.datasets import imdb, reuters


def _objects(lists):
    out = np.empty(len(lists), dtype=object)
    for i, x in enumerate(lists):
        out[i] = x
    return out


TRAIN = {10: [1, 5, 9], 11: [2, 2], 12: [7, 1, 1, 4]}  # label -> raw word indices
TEST = {20: [3], 21: [8, 6]}


@pytest.fixture
def imdb_file(cache, pin):
    np.savez(
        cache / "imdb.npz",
        x_train=_objects(list(TRAIN.values())),
        y_train=np.array(list(TRAIN)),
        x_test=_objects(list(TEST.values())),
        y_test=np.array(list(TEST)),
    )
    pin(imdb, cache / "imdb.npz")


def _as_dict(x, y):
    assert x.dtype == object
    assert x.ndim == 1
    return {int(label): list(seq) for seq, label in zip(x, y, strict=True)}


def test_imdb_defaults_shift_and_mark_the_start(imdb_file):
    # As in Keras, num_words=None means "below the largest index", so the largest
    # index (9 + 3 = 12) itself becomes oov_char.
    (x_train, y_train), (x_test, y_test) = imdb.load_data()
    assert _as_dict(x_train, y_train) == {
        10: [1, 4, 8, 2],
        11: [1, 5, 5],
        12: [1, 10, 4, 4, 7],
    }
    assert _as_dict(x_test, y_test) == {20: [1, 6], 21: [1, 11, 9]}
    assert y_train.dtype == np.int64


def test_imdb_shuffles_each_split_with_one_generator(imdb_file):
    rng = np.random.RandomState(7)
    train, test = np.arange(3), np.arange(2)
    rng.shuffle(train)
    rng.shuffle(test)
    (_, y_train), (_, y_test) = imdb.load_data(seed=7)
    np.testing.assert_array_equal(y_train, np.array(list(TRAIN))[train])
    np.testing.assert_array_equal(y_test, np.array(list(TEST))[test])


def test_imdb_num_words_skip_top_and_oov(imdb_file):
    (x, y), _ = imdb.load_data(num_words=8)
    assert _as_dict(x, y)[10] == [1, 4, 2, 2]
    (x, y), _ = imdb.load_data(skip_top=5)
    assert _as_dict(x, y)[10] == [2, 2, 8, 2]
    (x, y), _ = imdb.load_data(num_words=8, oov_char=None)
    assert _as_dict(x, y)[10] == [1, 4]


def test_imdb_raw_indices(imdb_file):
    (x, y), (xt, yt) = imdb.load_data(start_char=None, index_from=0, num_words=10)
    assert _as_dict(x, y) == TRAIN
    assert _as_dict(xt, yt) == TEST


def test_imdb_maxlen_keeps_shorter_sequences(imdb_file):
    (x, y), (xt, yt) = imdb.load_data(maxlen=4)
    assert _as_dict(x, y) == {11: [1, 5, 5]}
    assert _as_dict(xt, yt) == {20: [1, 6], 21: [1, 2, 9]}
    with pytest.raises(
        ValueError, match="shorter than maxlen=3, got none in the training"
    ):
        imdb.load_data(maxlen=3)


def test_imdb_rejects_unknown_arguments(imdb_file):
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['nb_words'\]"):
        imdb.load_data(nb_words=3)


WIRES = [[4, 1], [9, 9, 9], [2], [6, 5, 3, 1], [7, 8]]


@pytest.fixture
def reuters_file(cache, pin):
    np.savez(cache / "reuters.npz", x=_objects(WIRES), y=np.arange(5))
    pin(reuters, cache / "reuters.npz")


def test_reuters_splits_after_one_shuffle(reuters_file):
    order = np.arange(5)
    np.random.RandomState(113).shuffle(order)
    (x_train, y_train), (x_test, y_test) = reuters.load_data(
        test_split=0.4, num_words=13
    )
    np.testing.assert_array_equal(y_train, order[:3])
    np.testing.assert_array_equal(y_test, order[3:])
    for x, y in [(x_train, y_train), (x_test, y_test)]:
        for seq, label in zip(x, y, strict=True):
            assert seq == [1] + [w + 3 for w in WIRES[label]]


def test_reuters_arguments(reuters_file):
    (x, y), (xt, _) = reuters.load_data(
        num_words=10, skip_top=2, maxlen=4, test_split=0.0, start_char=None,
        oov_char=0, index_from=1,
    )  # fmt: skip
    assert len(xt) == 0
    got = {int(label): seq for seq, label in zip(x, y, strict=True)}
    assert got == {0: [5, 2], 1: [0, 0, 0], 2: [3], 4: [8, 9]}


def test_word_index_is_json(cache, monkeypatch):
    text = json.dumps({"the": 1, "and": 2}).encode()
    (cache / "reuters_word_index.json").write_bytes(text)
    monkeypatch.setattr(reuters, "WORD_INDEX_MD5", hashlib.md5(text).hexdigest())
    assert reuters.get_word_index() == {"the": 1, "and": 2}


def test_label_names():
    names = reuters.get_label_names()
    assert len(names) == 46
    assert names[:4] == ("cocoa", "grain", "veg-oil", "earn")
