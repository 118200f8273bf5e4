"""Tests for plait.saving.export: `.pt2` through torch.export and ONNX."""

import sys

import numpy as np
import pytest
import torch

from plait import layers as L
from plait.models import Model, Sequential

RNG = np.random.default_rng(0)


def _two_inputs():
    a = L.Input(shape=(4,), name="a")
    ids = L.Input(shape=(3,), dtype="int32", name="ids")
    e = L.Flatten()(L.Embedding(10, 2)(ids))
    h = L.concatenate([L.Dense(5, activation="relu")(a), e])
    return Model([a, ids], [L.Dense(2, name="y")(L.Dropout(0.5)(h)), h])


def _data(n):
    return [
        RNG.standard_normal((n, 4)).astype("float32"),
        RNG.integers(0, 10, (n, 3)).astype("int32"),
    ]


def test_export_pt2_dynamic_batch(tmp_path):
    model = _two_inputs()
    model.export(tmp_path / "m.pt2")
    program = torch.export.load(str(tmp_path / "m.pt2")).module()
    for n in (1, 5):
        data = _data(n)
        out = program(*[torch.from_numpy(d) for d in data])
        for got, want in zip(out, model.predict(data, verbose=0)):
            np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
def test_export_onnx_dynamic_batch(tmp_path, monkeypatch, exporter):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    if exporter == "dynamo":
        pytest.importorskip("onnxscript")
    else:  # without onnxscript, plait uses torch's TorchScript-based exporter
        monkeypatch.setitem(sys.modules, "onnxscript", None)
    model = Sequential([L.Dense(6, activation="relu", input_shape=(4,)), L.Dense(3)])
    model.export(tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    assert [i.name for i in session.get_inputs()] == model.input_names
    data = RNG.standard_normal((7, 4)).astype("float32")
    (got,) = session.run(None, {model.input_names[0]: data})
    np.testing.assert_allclose(
        got, model.predict(data, verbose=0), rtol=1e-5, atol=1e-5
    )


def test_export_rejects_unknown_format(tmp_path):
    x = L.Input(shape=(2,))
    model = Model(x, L.Dense(1)(x))
    with pytest.raises(ValueError, match=r"'\.onnx' or '\.pt2'"):
        model.export(tmp_path / "m.tflite")
    model.export(tmp_path / "m.bin", format="pt2")
    assert (tmp_path / "m.bin").stat().st_size > 0
