"""Array data on the model's device: the size rule, streaming, prefetching.

The CPU tests stream to torch's `meta` device (shapes, no data) or, end to
end, through the streaming code with copies that are no-ops; the real
host-to-GPU path is in the tests marked `gpu`.
"""

import numpy as np
import pytest
import torch

import plait
from plait.layers import Dense, Input
from plait.training import streaming
from plait.training.data import ArrayBatches, IterableBatches

META = torch.device("meta")
GIB = 1024**3


def _model():
    torch.manual_seed(0)
    i = Input(shape=(4,))
    return plait.Model(i, Dense(2)(Dense(3, activation="relu")(i)))


# ---------------------------------------------------------------- the size rule
def test_data_stays_where_it_is_on_the_cpu_whatever_its_size():
    assert streaming.keeps_whole(10**15, "cpu")
    assert streaming.keeps_whole(0, torch.device("cpu"))


@pytest.mark.parametrize(
    ("size", "free", "whole"),
    [
        (GIB // 4, GIB, True),  # exactly the fraction
        (GIB // 4 + 1, GIB, False),
        (streaming.WHOLE_CAP_BYTES, 100 * GIB, True),  # exactly the cap
        (streaming.WHOLE_CAP_BYTES + 1, 100 * GIB, False),  # a huge GPU: still capped
        (1, 0, False),  # a full device
    ],
)
def test_gpu_data_is_copied_whole_below_a_fraction_of_free_memory_and_the_cap(
    size, free, whole
):
    assert streaming.keeps_whole(size, "cuda", free=free) is whole


def test_free_memory_comes_from_the_device(monkeypatch):
    asked = []

    def mem_get_info(device):
        asked.append(device)
        return 1000, 8000

    monkeypatch.setattr(torch.cuda, "mem_get_info", mem_get_info)
    assert streaming.keeps_whole(250, "cuda:1")
    assert not streaming.keeps_whole(251, "cuda:1")
    assert asked == [torch.device("cuda:1")] * 2


def test_a_device_without_a_free_memory_query_uses_the_cap_alone():
    assert streaming.keeps_whole(streaming.WHOLE_CAP_BYTES, META)
    assert not streaming.keeps_whole(streaming.WHOLE_CAP_BYTES + 1, META)


def test_nbytes_counts_every_tensor_once():
    data = ([torch.zeros(3, 4)], [None, torch.zeros(3, dtype=torch.int64)])
    assert streaming.nbytes(data) == 3 * 4 * 4 + 3 * 8


def test_place_copies_small_data_whole_and_streams_large_data(monkeypatch):
    batch = ([torch.ones(6, 2)], [torch.zeros(6)], [None])
    placed, stream_to = streaming.place(batch, META)
    assert stream_to is None
    assert placed[0][0].device == META
    assert placed[2] == [None]
    monkeypatch.setattr(streaming, "WHOLE_CAP_BYTES", 10)
    placed, stream_to = streaming.place(batch, META)
    assert stream_to == META
    assert placed[0][0] is batch[0][0]  # never copied whole


def test_place_copies_nothing_when_the_data_is_on_the_device_already():
    x = torch.ones(3)
    placed, stream_to = streaming.place([x], torch.device("cpu"))
    assert stream_to is None
    assert placed[0] is x


# ---------------------------------------------------------------- streaming
def test_each_batch_is_copied_one_batch_ahead(monkeypatch):
    events = []
    copy = streaming.to_device

    def recording_copy(t, device):
        events.append(f"copy {int(t[0])}")
        return copy(t, device)

    monkeypatch.setattr(streaming, "to_device", recording_copy)
    host = ([torch.arange(5)], [None], [None])
    data = ArrayBatches(*host, batch_size=2, stream_to=META)
    for i, batch in enumerate(data.epoch()):
        events.append(f"use {i}")
        assert batch[0][0].device == META
    assert events == ["copy 0", "copy 2", "use 0", "copy 4", "use 1", "use 2"]


@pytest.mark.parametrize("shuffle", [False, True, "batch"])
def test_streamed_batches_are_the_batches_of_data_on_the_device(shuffle):
    x = torch.arange(22, dtype=torch.float32).reshape(11, 2)
    y, w = torch.arange(11), torch.rand(11)

    def batches(stream_to):
        torch.manual_seed(3)
        data = ArrayBatches([x], [y], [w], 4, shuffle=shuffle, stream_to=stream_to)
        return [
            [t.shape for t in (b[0][0], b[1][0], b[2][0])]
            + [b[0][0].device.type]
            + [None if stream_to else b[0][0].tolist()]
            for b in data.epoch()
        ]

    streamed, whole = batches(META), batches(None)
    assert [b[:3] for b in streamed] == [b[:3] for b in whole]
    assert {b[3] for b in streamed} == {"meta"}


def test_gathering_into_pinned_memory_needs_a_gpu_only_when_asked():
    t = torch.arange(10).reshape(5, 2)
    assert streaming.rows(t, slice(1, 3)).tolist() == [[2, 3], [4, 5]]
    assert streaming.rows(t, torch.tensor([4, 0])).tolist() == [[8, 9], [0, 1]]


def test_to_device_leaves_a_tensor_already_there_alone():
    t = torch.ones(2)
    assert streaming.to_device(t, torch.device("cpu")) is t


def test_loader_batches_are_standardized_one_ahead_off_the_cpu():
    made = []

    def standardize(element):
        made.append(int(element[0][0]))
        return element

    source = [(torch.tensor([i]), None, None) for i in range(3)]
    seen = [
        list(made) for _ in IterableBatches(source, standardize, ahead=True).epoch()
    ]
    assert seen == [[0, 1], [0, 1, 2], [0, 1, 2]]
    made.clear()
    seen = [list(made) for _ in IterableBatches(source, standardize).epoch()]
    assert seen == [[0], [0, 1], [0, 1, 2]]


def _force_streaming(monkeypatch):
    """Every array source streams, to the CPU: the copies are no-ops."""
    real = streaming.place
    monkeypatch.setattr(
        streaming, "place", lambda data, device: (real(data, device)[0], device)
    )


def test_fit_evaluate_predict_streamed_equal_the_whole_data_run(monkeypatch):
    rng = np.random.default_rng(0)
    x, y = rng.random((37, 4)), rng.random((37, 2))

    def run():
        model = _model()
        model.compile("adam", "mse", metrics=["mae"])
        history = model.fit(
            x, y, batch_size=8, epochs=2, validation_split=0.25, verbose=0
        ).history
        return (
            history,
            model.evaluate(x, y, batch_size=5, verbose=0),
            model.predict(x, batch_size=6, verbose=0),
            model.predict(x, batch_size=6, steps=2, verbose=0),
        )

    whole = run()
    _force_streaming(monkeypatch)
    streamed = run()
    assert streamed[0] == whole[0]
    assert streamed[1] == whole[1]
    np.testing.assert_array_equal(streamed[2], whole[2])
    assert isinstance(streamed[2], np.ndarray)
    assert streamed[3].shape == (12, 2)
    np.testing.assert_array_equal(streamed[3], whole[3])


def test_a_streamed_source_keeps_its_data_on_the_host(monkeypatch):
    _force_streaming(monkeypatch)
    model = _model()
    model.compile("sgd", "mse")
    source = model._source(
        np.ones((5, 4)), np.zeros((5, 2)), None, 2, False, None, "fit"
    )
    assert source.stream_to == torch.device("cpu")
    assert source.xs[0].dtype == torch.float32


# ---------------------------------------------------------------- on a GPU
def _recording_pins(monkeypatch):
    pinned = []
    copy = streaming.to_device

    def recording(t, device):
        pinned.append(t.is_pinned())
        return copy(t, device)

    monkeypatch.setattr(streaming, "to_device", recording)
    return pinned


@pytest.mark.gpu
@pytest.mark.parametrize("shuffle", [False, True])
def test_gpu_streaming_copies_from_pinned_memory_and_trains_like_whole_data(
    monkeypatch, shuffle
):
    rng = np.random.default_rng(1)
    x, y = rng.random((64, 4)).astype("float32"), rng.random((64, 2))

    def run():
        model = _model().to("cuda")
        model.compile("sgd", "mse")
        torch.manual_seed(5)
        hist = model.fit(x, y, batch_size=16, epochs=2, shuffle=shuffle, verbose=0)
        return hist.history["loss"], model.predict(x, verbose=0)

    whole = run()
    pinned = _recording_pins(monkeypatch)
    monkeypatch.setattr(streaming, "WHOLE_CAP_BYTES", 0)
    streamed = run()
    assert len(pinned) == 2 * 2 * 4 + 2  # x and y of 4 batches, 2 epochs; predict
    assert all(pinned)  # gathered straight into pinned memory
    np.testing.assert_allclose(streamed[0], whole[0], rtol=1e-6)
    assert isinstance(streamed[1], np.ndarray)
    np.testing.assert_allclose(streamed[1], whole[1], rtol=1e-6)


@pytest.mark.gpu
def test_gpu_small_data_is_copied_whole_once():
    model = _model().to("cuda")
    model.compile("sgd", "mse")
    source = model._source(
        np.ones((5, 4)), np.zeros((5, 2)), None, 2, True, None, "fit"
    )
    assert source.stream_to is None
    assert source.xs[0].device.type == "cuda"


@pytest.mark.gpu
def test_gpu_loader_batches_and_predict_return_host_numpy():
    model = _model().to("cuda")
    model.compile("sgd", "mse")
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.rand(20, 4), torch.rand(20, 2)),
        batch_size=8,
    )
    model.fit(loader, epochs=1, verbose=0)
    out = model.predict(torch.rand(7, 4, device="cuda"), verbose=0)
    assert isinstance(out, np.ndarray)
    assert out.shape == (7, 2)
    from_loader = model.predict(((b,) for b in torch.rand(3, 5, 4)), verbose=0)
    assert isinstance(from_loader, np.ndarray)
    assert from_loader.shape == (15, 2)


@pytest.mark.gpu
def test_gpu_to_host_copies_are_blocking():
    t = torch.arange(1_000_000, device="cuda")
    host = streaming.to_device(t, torch.device("cpu"))
    assert int(host[-1]) == 999_999
