"""Tests for plait.utils.pydataset: PyDataset as fit/evaluate/predict data, timeseries."""

import concurrent.futures
import os
import threading

import numpy as np
import pytest
import torch

import plait
from plait.layers import Dense, Input
from plait.preprocessing.sequence import TimeseriesGenerator
from plait.utils import PyDataset, Sequence, pydataset, timeseries_dataset_from_array
from plait.utils.pydataset import epoch_batches


class Arrays(PyDataset):
    """Batches of arrays, recording the indices asked for and the epoch hooks."""

    def __init__(self, x, y=None, sw=None, batch_size=4, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.sw, self.batch_size = x, y, sw, batch_size
        self.asked = []
        self.events = []

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        self.asked.append(index)
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        if self.y is None:
            return self.x[part]
        if self.sw is None:
            return self.x[part], self.y[part]
        return self.x[part], self.y[part], self.sw[part]

    def on_epoch_begin(self):
        self.events.append("begin")

    def on_epoch_end(self):
        self.events.append("end")


def regressor(seed=0):
    plait.utils.set_random_seed(seed)
    inputs = Input(shape=(3,))
    model = plait.Model(inputs, Dense(1)(Dense(4, activation="relu")(inputs)))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model


def data(n=10):
    rng = np.random.default_rng(0)
    x = rng.random((n, 3)).astype("float32")
    y = rng.random((n, 1)).astype("float32")
    sw = rng.random(n).astype("float32")
    return x, y, sw


def weights(model):
    return [w.detach().clone() for w in model.parameters()]


@pytest.mark.parametrize("workers", [1, 2])
def test_fit_evaluate_predict_equal_arrays(workers):
    x, y, _ = data()
    by_arrays = regressor()
    h1 = by_arrays.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    by_dataset = regressor()
    ds = Arrays(x, y, workers=workers)
    h2 = by_dataset.fit(ds, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(weights(by_arrays), weights(by_dataset)):
        torch.testing.assert_close(a, b)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(
        by_arrays.evaluate(x, y, batch_size=4, verbose=0),
        by_dataset.evaluate(Arrays(x, y, workers=workers), verbose=0),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        by_arrays.predict(x, batch_size=4, verbose=0),
        by_dataset.predict(Arrays(x, workers=workers), verbose=0),
        rtol=1e-6,
    )


def test_sample_weights_equal_arrays():
    x, y, sw = data()
    by_arrays = regressor()
    by_arrays.fit(x, y, sample_weight=sw, batch_size=4, shuffle=False, verbose=0)
    by_dataset = regressor()
    by_dataset.fit(Arrays(x, y, sw), shuffle=False, verbose=0)
    for a, b in zip(weights(by_arrays), weights(by_dataset)):
        torch.testing.assert_close(a, b)
    np.testing.assert_allclose(
        by_arrays.evaluate(x, y, sample_weight=sw, batch_size=4, verbose=0),
        by_dataset.evaluate(Arrays(x, y, sw), verbose=0),
        rtol=1e-6,
    )


def test_epoch_hooks_once_per_epoch():
    x, y, _ = data()
    ds = Arrays(x, y)
    regressor().fit(ds, epochs=3, shuffle=False, verbose=0)
    assert ds.events == ["begin", "end"] * 3
    assert ds.asked == [0, 1, 2] * 3


def test_fit_shuffles_batch_order_like_keras():
    # Keras 3: fit(shuffle=True) draws the order of a PyDataset's batches.
    x, y, _ = data(40)
    ds = Arrays(x, y)
    regressor().fit(ds, epochs=3, verbose=0)
    epochs = [ds.asked[i : i + 10] for i in range(0, 30, 10)]
    assert all(sorted(e) == list(range(10)) for e in epochs)
    assert any(e != list(range(10)) for e in epochs)
    ds.asked.clear()
    regressor().evaluate(ds, verbose=0)
    assert ds.asked == list(range(10))


def test_workers_give_batches_in_order_from_threads():
    threads = set()

    class Slow(PyDataset):
        def __len__(self):
            return 12

        def __getitem__(self, index):
            threads.add(threading.get_ident())
            return np.full(2, index)

    ds = Slow(workers=2, max_queue_size=3)
    got = [b[0] for b in epoch_batches(ds)]
    assert got == list(range(12))
    assert threading.get_ident() not in threads


class Pids(PyDataset):
    """Batches `[index, pid, epoch]`: which process built them, after how many epochs."""

    def __init__(self, n=6, **kwargs):
        super().__init__(**kwargs)
        self.n, self.epoch = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        return np.array([index, os.getpid(), self.epoch])

    def on_epoch_end(self):
        self.epoch += 1


def bounded(fn, seconds=120):
    """`fn()`, failing (not hanging) if it takes longer than `seconds`."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result(timeout=seconds)


# Python 3.12+ warns when forking a process that runs threads (torch's); the
# workers only build batches.
FORK_WARNING = "ignore:This process .* is multi-threaded:DeprecationWarning"


@pytest.mark.slow
@pytest.mark.filterwarnings(FORK_WARNING)
def test_multiprocessing_batches_come_from_worker_processes_in_order():
    ds = Pids(workers=2, use_multiprocessing=True, max_queue_size=3)
    passes = epoch_batches(ds)
    first, second = bounded(lambda: (list(passes), list(passes)))
    assert [int(b[0]) for b in first] == list(range(6))
    pids = {int(b[1]) for b in first + second}
    assert os.getpid() not in pids
    assert 2 <= len(pids) <= 4  # two workers per pass
    # on_epoch_end ran (in this process) after each pass, and the next pass's
    # workers got the dataset as it left.
    assert [int(b[2]) for b in first] == [0] * 6
    assert [int(b[2]) for b in second] == [1] * 6
    assert ds.epoch == 2


@pytest.mark.slow
@pytest.mark.filterwarnings(FORK_WARNING)
def test_fit_with_multiprocessing_matches_in_process_batches():
    x, y, _ = data(12)
    trained = []
    for kwargs in ({}, {"workers": 2, "use_multiprocessing": True}):
        model = regressor()
        ds = Arrays(x, y, batch_size=4, **kwargs)
        bounded(lambda m=model, d=ds: m.fit(d, epochs=2, shuffle=False, verbose=0))
        trained.append(weights(model))
    for ours, theirs in zip(*trained):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def test_multiprocessing_falls_back_to_threads_when_the_dataset_cannot_pickle(
    monkeypatch,
):
    monkeypatch.setattr(pydataset, "START_METHOD", "spawn")  # spawn pickles it
    ds = Arrays(np.arange(6.0), batch_size=2, workers=2, use_multiprocessing=True)
    ds.hook = lambda: None  # a lambda does not pickle
    with pytest.warns(UserWarning, match="needs a dataset that pickles, got"):
        got = [b.tolist() for b in epoch_batches(ds)]
    assert got == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]


def test_stopping_early_shuts_the_pool_down():
    ds = Arrays(np.arange(40.0), workers=3, max_queue_size=2, batch_size=1)
    batches = iter(epoch_batches(ds))
    assert next(batches).tolist() == [0.0]
    batches.close()
    assert max(ds.asked) <= 3


def test_sequence_alias_and_keras_defaults():
    assert Sequence is PyDataset

    class NoInit(Sequence):
        def __len__(self):
            return 1

        def __getitem__(self, index):
            return np.zeros((2, 3), "float32")

    ds = NoInit()
    assert (ds.workers, ds.use_multiprocessing, ds.max_queue_size) == (1, False, 10)
    assert ds.num_batches == 1
    assert regressor().predict(ds, verbose=0).shape == (2, 1)


def test_bad_workers_raise():
    with pytest.raises(ValueError, match="expected a positive int `workers`, got 0"):
        Arrays(np.zeros(2), workers=0)


def test_missing_getitem_raises():
    with pytest.raises(NotImplementedError, match="expected a `__getitem__"):
        PyDataset()[0]


def test_timeseries_generator_is_a_pydataset():
    gen = TimeseriesGenerator(np.arange(10), np.arange(10), length=3, batch_size=2)
    assert isinstance(gen, PyDataset)
    assert [y.tolist() for _, y in gen] == [[3, 4], [5, 6], [7, 8], [9]]


# Keras's documented examples (keras.utils.timeseries_dataset_from_array).
def test_timeseries_example_1_sampling_rate_and_stride():
    ds = timeseries_dataset_from_array(
        np.arange(99), None, sequence_length=10, sequence_stride=3, sampling_rate=2
    )
    windows = np.concatenate(list(ds))
    assert windows[0].tolist() == list(range(0, 20, 2))
    assert windows[1].tolist() == list(range(3, 23, 2))
    assert windows[2].tolist() == list(range(6, 26, 2))
    assert windows[-1].tolist() == list(range(78, 98, 2))
    assert len(windows) == 27


def test_timeseries_example_2_next_step_regression():
    data = np.arange(100.0) ** 2
    ds = timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10)
    inputs, targets = next(iter(ds))
    np.testing.assert_array_equal(inputs[0], data[:10])
    assert targets[0] == data[10]
    assert len(inputs) == 81


def test_timeseries_example_3_many_to_many():
    x = np.arange(100)
    y = x * 2
    ds_x = timeseries_dataset_from_array(x, None, 20, sequence_stride=20)
    ds_y = timeseries_dataset_from_array(y, None, 20, sequence_stride=20)
    inputs, targets = next(zip(ds_x, ds_y))
    np.testing.assert_array_equal(inputs[0], x[:20])
    np.testing.assert_array_equal(targets[1], y[20:40])
    assert inputs.shape == (5, 20)


def test_timeseries_start_end_shuffle_and_unbatched():
    data = np.arange(30)
    ds = timeseries_dataset_from_array(
        data, data, sequence_length=3, start_index=5, end_index=15, batch_size=None
    )
    assert len(ds) == 8
    x, y = ds[7]
    assert x.tolist() == [12, 13, 14]
    assert y == 12
    a = timeseries_dataset_from_array(data, data, 3, shuffle=True, seed=1, batch_size=5)
    b = timeseries_dataset_from_array(data, data, 3, shuffle=True, seed=1, batch_size=5)
    firsts = np.concatenate([w[:, 0] for w, _ in a])
    assert firsts.tolist() == np.concatenate([w[:, 0] for w, _ in b]).tolist()
    assert sorted(firsts.tolist()) == list(range(28))
    assert firsts.tolist() != list(range(28))
    assert all((t == w[:, 0]).all() for w, t in a)


def test_timeseries_fits():
    series = np.random.default_rng(0).random((40, 3)).astype("float32")
    ds = timeseries_dataset_from_array(series, series[2:, :1], 2, batch_size=8)
    inputs = Input(shape=(2, 3))
    model = plait.Model(inputs, Dense(1)(plait.layers.Flatten()(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_timeseries_bad_arguments_raise():
    with pytest.raises(ValueError, match="positive int `sampling_rate`, got 0"):
        timeseries_dataset_from_array(np.arange(5), None, 2, sampling_rate=0)
    with pytest.raises(ValueError, match=r"`start_index` in \[0, 5\)"):
        timeseries_dataset_from_array(np.arange(5), None, 2, start_index=5)
    with pytest.raises(ValueError, match=r"`end_index` in \(0, 5\)"):
        timeseries_dataset_from_array(np.arange(5), None, 2, end_index=5)
    with pytest.raises(ValueError, match="`sequence_stride` lower than the data"):
        timeseries_dataset_from_array(np.arange(5), None, 2, sequence_stride=5)


def test_validation_data_and_endless_dataset():
    x, y, _ = data()
    val = Arrays(x, y)

    class Endless(PyDataset):
        def __getitem__(self, index):
            part = slice((index % 2) * 4, (index % 2) * 4 + 4)
            return x[part], y[part]

    model = regressor()
    history = model.fit(
        Endless(workers=2), steps_per_epoch=3, epochs=2, validation_data=val, verbose=0
    )
    assert len(history.history["val_loss"]) == 2
    assert val.events == ["begin", "end"] * 2
    assert Endless().num_batches is None


class DiesAtTwo(Pids):
    """A worker process ends abruptly (as when killed) on batch 2."""

    def __getitem__(self, index):
        if index == 2 and os.getpid() != self.parent:
            os._exit(1)
        return super().__getitem__(index)


@pytest.mark.slow
@pytest.mark.filterwarnings(FORK_WARNING)
def test_a_worker_process_that_dies_is_an_error_not_a_hang():
    ds = DiesAtTwo(workers=2, use_multiprocessing=True, max_queue_size=3)
    ds.parent = os.getpid()
    with pytest.raises(
        RuntimeError,
        match=r"DiesAtTwo: a worker process died .*before batch \d+ came back",
    ):
        bounded(lambda: list(epoch_batches(ds)), seconds=60)
