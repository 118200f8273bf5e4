"""`plait.preprocessing.sequence`: skipgrams, sampling tables, TimeseriesGenerator."""

import json
import random

import numpy as np
import pytest

import plait
from plait import layers
from plait.preprocessing.sequence import (
    TimeseriesGenerator,
    make_sampling_table,
    skipgrams,
)


def test_make_sampling_table_is_a_probability_decreasing_with_rank():
    table = make_sampling_table(1000)
    assert table.shape == (1000,)
    assert table.dtype == np.float64
    assert np.all((table > 0) & (table <= 1))
    assert np.all(np.diff(table[1:]) >= 0)  # rarer words are kept more often
    assert make_sampling_table(1000, sampling_factor=1.0)[-1] == 1.0
    assert make_sampling_table(0).shape == (0,)


def test_skipgrams_pairs_every_word_with_its_window():
    couples, labels = skipgrams(
        [1, 2, 0, 3], 4, window_size=1, negative_samples=0.0, shuffle=False
    )
    # index 0 is a non-word: neither a centre nor a context
    assert couples == [[1, 2], [2, 1]]
    assert labels == [1, 1]


def test_skipgrams_negative_samples_are_labelled_zero_and_in_vocabulary():
    couples, labels = skipgrams(list(range(1, 8)), 20, window_size=2, seed=1)
    positives = [c for c, label in zip(couples, labels, strict=True) if label == 1]
    negatives = [c for c, label in zip(couples, labels, strict=True) if label == 0]
    assert len(negatives) == len(positives) == 22
    assert all(1 <= c[1] < 20 for c in negatives)


def test_skipgrams_categorical_labels_are_fresh_lists():
    _, labels = skipgrams([1, 2, 3], 5, categorical=True, shuffle=False)
    assert labels == [[0, 1]] * 6 + [[1, 0]] * 6
    labels[0].append(9)
    assert labels[1] == [0, 1]


def test_skipgrams_seed_fixes_the_shuffle():
    random.seed(0)
    first = skipgrams([1, 2, 3, 4], 6, seed=3)
    random.seed(0)
    assert skipgrams([1, 2, 3, 4], 6, seed=3) == first


def test_skipgrams_sampling_table_drops_words():
    table = np.zeros(5)
    assert skipgrams([1, 2, 3], 5, sampling_table=table) == ([], [])


def test_timeseries_generator_windows_and_targets():
    data = np.arange(10)
    gen = TimeseriesGenerator(data, data * 10, length=3, sampling_rate=1, batch_size=3)
    assert len(gen) == gen.num_batches == 3
    x, y = gen[0]
    assert x.tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 4]]
    assert y.tolist() == [30, 40, 50]
    x, y = gen[-1]  # the last batch is shorter
    assert x.tolist() == [[6, 7, 8]]
    assert y.tolist() == [90]
    assert [len(b[1]) for b in gen] == [3, 3, 1]


def test_timeseries_generator_rate_stride_reverse():
    data = np.arange(20)
    gen = TimeseriesGenerator(
        data, data, length=4, sampling_rate=2, stride=3, reverse=True, batch_size=2
    )
    x, y = gen[0]
    assert x.tolist() == [[2, 0], [5, 3]]
    assert y.tolist() == [4, 7]


def test_timeseries_generator_rejects_bad_arguments():
    with pytest.raises(
        ValueError, match=r"of same length: expected 5 targets .* got 4"
    ):
        TimeseriesGenerator(np.zeros(5), np.zeros(4), length=2)
    with pytest.raises(
        ValueError, match=r"`start_index\+length=6 > end_index=4` is disallowed"
    ):
        TimeseriesGenerator(np.zeros(5), np.zeros(5), length=6)
    with pytest.raises(ValueError, match="expected a positive int `stride`, got 0"):
        TimeseriesGenerator(np.zeros(5), np.zeros(5), length=2, stride=0)
    gen = TimeseriesGenerator(np.zeros(5), np.zeros(5), length=2)
    with pytest.raises(IndexError, match=r"expected a batch index in \[0, 1\), got 1"):
        gen[1]


def test_timeseries_generator_to_json():
    gen = TimeseriesGenerator(np.arange(6), list(range(6)), length=2, batch_size=4)
    config = json.loads(gen.to_json())
    assert config["class_name"] == "TimeseriesGenerator"
    assert json.loads(config["config"]["data"]) == list(range(6))
    assert config["config"]["start_index"] == 2  # Keras stores start_index + length
    bad = TimeseriesGenerator([object()] * 3, [0] * 3, length=1)
    with pytest.raises(TypeError, match="expected JSON-serializable `data`, got list"):
        bad.get_config()


def test_timeseries_generator_is_fit_evaluate_and_predict_data():
    data = np.random.rand(40, 2).astype("float32")
    targets = data[:, :1] + data[:, 1:]
    gen = TimeseriesGenerator(data, targets, length=4, batch_size=8)
    model = plait.Sequential(
        [plait.Input(shape=(4, 2)), layers.Flatten(), layers.Dense(1)]
    )
    model.compile("adam", "mse")
    history = model.fit(gen, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.isfinite(model.evaluate(gen, verbose=0))
    assert model.predict(gen, verbose=0).shape == (36, 1)
