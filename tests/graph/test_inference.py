"""Output specs of layers without compute_output_shape: run on meta tensors."""

import pytest
import torch

import plait
from plait.graph.inference import meta_spec, params_on_meta
from plait.layers import Dense, Input, Layer


class _PairSum(Layer):
    """No compute_output_shape: shapes come from the meta device."""

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1], 2), "ones")

    def call(self, inputs):
        return inputs @ self.w + inputs.sum(-1, keepdim=True)


class _SeqPool(Layer):
    def call(self, inputs):
        return inputs.max(dim=1).values


class _Counter(Layer):
    calls = 0

    def call(self, inputs):
        type(self).calls += 1
        return inputs.unsqueeze(1).expand(-1, 3, -1)


def test_inference_custom_layer_without_compute_output_shape():
    x = Input(shape=(5,))
    y = _PairSum()(x)
    assert y.shape == (None, 2)
    assert y.dtype == torch.float32


def test_inference_none_dims_preserved():
    x = Input(shape=(None, 4))
    assert _PairSum()(x).shape == (None, None, 2)
    assert _SeqPool()(x).shape == (None, 4)


def test_inference_fixed_batch_preserved():
    x = Input(shape=(None, 4), batch_size=3)
    assert _SeqPool()(x).shape == (3, 4)


def test_inference_runs_on_meta_without_touching_weights():
    layer = _PairSum()
    layer(Input(shape=(5,)))
    assert layer.w.device.type == "cpu"
    torch.testing.assert_close(layer.w, torch.ones(5, 2))


def test_inference_static_shape_runs_once():
    _Counter.calls = 0
    _Counter()(Input(batch_shape=(2, 4)))
    assert _Counter.calls == 1
    _Counter.calls = 0
    assert _Counter()(Input(shape=(4,))).shape == (None, 3, 4)
    assert _Counter.calls == 2  # the 83/89 fills find the dynamic dims


def test_inference_int_dtype_kept_when_layer_returns_int():
    class ArgMax(Layer):
        def call(self, inputs):
            return inputs.argmax(-1)

    out = ArgMax()(Input(shape=(3,)))
    assert out.shape == (None,)
    assert out.dtype == torch.int64


def test_inference_meta_spec_structure():
    spec = meta_spec(
        lambda a, b: {"x": a + 1, "y": [b, None]},
        torch.nn.Module(),
        (Input(shape=(2,)), Input(shape=(3,))),
        {},
    )
    assert spec["x"].shape == (None, 2)
    assert spec["y"][0].shape == (None, 3)
    assert spec["y"][1] is None


def test_inference_params_on_meta_restores_parameters():
    lin = torch.nn.Linear(2, 3)
    before = lin.weight
    with params_on_meta(lin):
        assert lin.weight.device.type == "meta"
    assert lin.weight is before


def test_inference_error_in_call_names_layer_and_shape():
    class Bad(Layer):
        def call(self, inputs):
            return inputs @ torch.ones(7, 2)

    with pytest.raises(
        RuntimeError, match=r"^Bad layer 'bad\w*' on input shape \(None, 3\): "
    ):
        Bad()(Input(shape=(3,)))


def test_inference_rank_depending_on_unknown_dim_is_an_error():
    class Weird(Layer):
        def call(self, inputs):
            return inputs.reshape(*([1] * (inputs.shape[1] % 5)), -1)

    with pytest.raises(ValueError, match="output rank depends"):
        Weird()(Input(shape=(None,)))


def test_inference_compute_output_shape_used_when_defined():
    class Declared(Layer):
        def call(self, inputs):
            raise AssertionError("call must not run for shape inference")

        def compute_output_shape(self, input_shape):
            return (input_shape[0], 7)

    assert Declared()(Input(shape=(2,))).shape == (None, 7)


def test_inference_dense_on_unknown_last_axis_is_an_error():
    with pytest.raises(ValueError, match=r"Dense layer '\w+'.*last axis to be known"):
        Dense(2)(Input(shape=(None,)))


def test_inference_model_output_shape_from_meta():
    x = Input(shape=(None, 4))
    model = plait.Model(x, _SeqPool()(_PairSum()(x)))
    assert model.output_shape == (None, 2)
