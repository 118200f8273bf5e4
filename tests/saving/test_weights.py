"""Tests for plait.saving.weights: safetensors files keyed by layer-name paths."""

import numpy as np
import pytest
import torch
from safetensors import safe_open

from plait import layers as L
from plait.models import Model, Sequential
from plait.saving import WeightsReport, load_weights, save_weights
from plait.saving.weights import collect_weights


def _mlp(names=("d1", "d2"), units=(4, 2)):
    x = L.Input(shape=(3,))
    h = L.Dense(units[0], name=names[0])(x)
    return Model(x, L.Dense(units[1], name=names[1])(h))


def _keys(path):
    with safe_open(str(path), framework="pt") as f:
        return sorted(f.keys())


def test_save_weights_keys_and_keras_layout(tmp_path):
    model = _mlp()
    save_weights(model, tmp_path / "w.safetensors")
    assert _keys(tmp_path / "w.safetensors") == [
        "d1/bias",
        "d1/kernel",
        "d2/bias",
        "d2/kernel",
    ]
    with safe_open(str(tmp_path / "w.safetensors"), framework="pt") as f:
        kernel = f.get_tensor("d1/kernel")
    np.testing.assert_array_equal(kernel.numpy(), model.layers[1].get_weights()[0])


def test_nested_model_keys(tmp_path):
    inner = _mlp(names=("a", "b"))
    inner.name = "encoder"
    x = L.Input(shape=(3,))
    outer = Model(x, L.Dense(1, name="head")(inner(x)))
    keys = [e.key for e in collect_weights(outer)]
    assert keys == [
        "encoder/a/kernel",
        "encoder/a/bias",
        "encoder/b/kernel",
        "encoder/b/bias",
        "head/kernel",
        "head/bias",
    ]


def test_weights_in_torch_layout_save_in_keras_layout(tmp_path):
    x = L.Input(shape=(5, 5, 2))
    model = Model(x, L.Conv2D(3, (2, 2), name="c")(x))
    model.save_weights(tmp_path / "w.safetensors")
    with safe_open(str(tmp_path / "w.safetensors"), framework="pt") as f:
        assert tuple(f.get_tensor("c/kernel").shape) == (2, 2, 2, 3)
    again = Model(x, L.Conv2D(3, (2, 2), name="c2")(x))
    again.load_weights(tmp_path / "w.safetensors")
    data = np.random.default_rng(0).standard_normal((1, 5, 5, 2)).astype("float32")
    np.testing.assert_array_equal(
        model.predict(data, verbose=0), again.predict(data, verbose=0)
    )


def test_load_weights_roundtrip_by_path(tmp_path):
    model, other = _mlp(), _mlp()
    model.save_weights(tmp_path / "w.safetensors")
    report = other.load_weights(tmp_path / "w.safetensors")
    assert report == WeightsReport([], [], [])
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_load_weights_topological_when_names_differ(tmp_path):
    model = _mlp(names=("x1", "x2"))
    model.save_weights(tmp_path / "w.safetensors")
    rebuilt = Sequential([L.Dense(4, input_shape=(3,)), L.Dense(2)])  # auto names
    rebuilt.load_weights(tmp_path / "w.safetensors")
    for a, b in zip(model.get_weights(), rebuilt.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_load_weights_report_and_skip_mismatch(tmp_path):
    _mlp(names=("d1", "d2"), units=(4, 2)).save_weights(tmp_path / "w.safetensors")
    target = _mlp(names=("d1", "d3"), units=(4, 5))
    with pytest.raises(ValueError, match=r"missing from the file \(2\)") as err:
        target.load_weights(tmp_path / "w.safetensors")
    assert "unexpected in the file (2): ['d2/" in str(err.value)
    before = target.layers[2].get_weights()
    with pytest.warns(UserWarning, match="skipped weights"):
        report = target.load_weights(tmp_path / "w.safetensors", skip_mismatch=True)
    assert sorted(report.missing) == ["d3/bias", "d3/kernel"]
    np.testing.assert_array_equal(target.layers[2].get_weights()[0], before[0])

    wide = _mlp(names=("d1", "d2"), units=(6, 2))
    with pytest.raises(ValueError, match=r"d1/kernel: file \(3, 4\), model \(3, 6\)"):
        wide.load_weights(tmp_path / "w.safetensors")
    with pytest.warns(UserWarning, match="shape mismatches"):
        report = wide.load_weights(tmp_path / "w.safetensors", skip_mismatch=True)
    assert [k for k, _, _ in report.mismatched] == ["d1/kernel", "d1/bias", "d2/kernel"]


def test_load_weights_by_name(tmp_path):
    source = _mlp(names=("enc", "head"))
    source.save_weights(tmp_path / "w.safetensors")
    inner = _mlp(names=("enc", "other"))
    inner.name = "wrapper"
    x = L.Input(shape=(3,))
    outer = Model(x, inner(x))
    report = outer.load_weights(tmp_path / "w.safetensors", by_name=True)
    np.testing.assert_array_equal(
        outer.get_layer("wrapper").get_layer("enc").get_weights()[0],
        source.get_layer("enc").get_weights()[0],
    )
    assert report.missing == ["wrapper/other/kernel", "wrapper/other/bias"]
    assert report.unexpected == ["head/bias", "head/kernel"]


def test_load_weights_from_model_file(tmp_path):
    model, other = _mlp(), _mlp()
    model.save(tmp_path / "m.plait")
    load_weights(other, tmp_path / "m.plait")
    np.testing.assert_array_equal(model.get_weights()[0], other.get_weights()[0])


def test_save_weights_needs_safetensors_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"'\.safetensors' \(or Keras 3's"):
        _mlp().save_weights(tmp_path / "w.h5")


def test_shared_weight_saved_once():
    x = L.Input(shape=(3,))
    d = L.Dense(3, name="tied")
    model = Model(x, d(d(x)))
    assert [e.key for e in collect_weights(model)] == ["tied/kernel", "tied/bias"]


def test_buffers_and_plain_torch_modules_saved(tmp_path):
    class WithTorch(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = torch.nn.Linear(3, 2)
            self.register_buffer("count", torch.zeros(()))

        def call(self, inputs):
            return self.inner(inputs)

    x = L.Input(shape=(3,))
    model = Model(x, WithTorch(name="wt")(x))
    keys = [e.key for e in collect_weights(model)]
    assert keys == ["wt/count", "wt/inner/weight", "wt/inner/bias"]
