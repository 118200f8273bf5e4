"""One build per layer or model when its first call comes from several threads.

`Dense.build` is slowed down so that every thread reaches the unbuilt check
before the first build ends: without the build lock each one builds its own
weights, and the callers whose weights were replaced get results no later call
reproduces.
"""

import copy
import threading
import time

import torch

import plait
from plait.layers import Dense, Input
from plait.utils.build_lock import build_lock

N_THREADS = 6


def _slow_counted_builds(monkeypatch):
    """Make `Dense.build` slow and return the list it appends to on each build."""
    calls = []
    original = Dense.build

    def slow_build(self, input_shape):
        calls.append(self.name)
        time.sleep(0.05)
        original(self, input_shape)

    monkeypatch.setattr(Dense, "build", slow_build)
    return calls


def _from_threads(fn):
    """`fn(i)` for i in range(N_THREADS), all threads released at once."""
    barrier = threading.Barrier(N_THREADS)
    results = [None] * N_THREADS
    errors = []

    def run(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as err:  # reported below, on the test's thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(N_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return results


def _assert_same_as_final(model, x, results):
    with torch.no_grad():
        expected = model(x)
    for out in results:
        torch.testing.assert_close(out, expected, rtol=0, atol=0)


def test_build_lock_is_one_reentrant_lock_per_object():
    first, second = Dense(2), Dense(2)
    lock = build_lock(first)
    assert build_lock(first) is lock
    assert build_lock(second) is not lock
    with lock, lock:  # re-entrant: a build may call its own object again
        pass


def test_build_lock_dense_eager_first_call_from_threads(monkeypatch):
    calls = _slow_counted_builds(monkeypatch)
    layer = Dense(3)
    x = torch.randn(2, 4)
    results = _from_threads(lambda i: layer(x))
    assert calls == [layer.name]
    _assert_same_as_final(layer, x, results)


def test_build_lock_dense_symbolic_first_call_from_threads(monkeypatch):
    calls = _slow_counted_builds(monkeypatch)
    layer = Dense(3)
    inputs = [Input(shape=(4,)) for _ in range(N_THREADS)]
    outputs = _from_threads(lambda i: layer(inputs[i]))
    assert calls == [layer.name]
    assert [tuple(y.shape) for y in outputs] == [(None, 3)] * N_THREADS
    assert len(layer.weights) == 2


def test_build_lock_sequential_deferred_build_from_threads(monkeypatch):
    calls = _slow_counted_builds(monkeypatch)
    model = plait.Sequential([Dense(4, activation="relu"), Dense(2)])
    x = torch.randn(3, 5)
    results = _from_threads(lambda i: model(x))
    assert sorted(calls) == sorted(layer.name for layer in model.layers)
    assert [len(layer.inbound_nodes) for layer in model.layers] == [1, 1]
    _assert_same_as_final(model, x, results)


def test_build_lock_nested_sequential_from_threads(monkeypatch):
    calls = _slow_counted_builds(monkeypatch)
    inner = plait.Sequential([Dense(4, activation="relu"), Dense(3)])
    model = plait.Sequential([inner, Dense(1)])
    x = torch.randn(3, 5)
    results = _from_threads(lambda i: model(x))
    assert len(calls) == 3
    assert len(set(calls)) == 3
    _assert_same_as_final(model, x, results)


def test_build_lock_layers_still_deepcopy_and_save(tmp_path):
    model = plait.Sequential([Dense(4, activation="relu"), Dense(2)])
    x = torch.randn(3, 5)
    expected = model(x)  # built under its lock
    torch.testing.assert_close(copy.deepcopy(model)(x), expected)
    assert plait.models.clone_model(model)(x).shape == expected.shape
    path = tmp_path / "model.pt"
    torch.save(model, path)
    loaded = torch.load(path, weights_only=False)
    torch.testing.assert_close(loaded(x), expected)
    for weight in loaded.weights:
        weight.data.zero_()
    loaded.load_state_dict(model.state_dict())
    torch.testing.assert_close(loaded(x), expected)
