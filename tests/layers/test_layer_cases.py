"""Every LAYER_CASES row through one shared `check_layer()`."""

import copy
import json

import numpy as np
import pytest
import torch

import plait
from plait.layers import Input
from tests.layers.cases import LAYER_CASES, LayerCase

BATCH = 2


def _sample(case: LayerCase, shape):
    full = (BATCH, *shape)
    if case.input_dtype.startswith("int"):
        return torch.randint(
            0, case.int_high, full, dtype=getattr(torch, case.input_dtype)
        )
    if case.make_input is not None:
        return case.make_input(full)
    return torch.randn(full)


def _inputs(case: LayerCase):
    multi = isinstance(case.input_shape, list)
    shapes = case.input_shape if multi else [case.input_shape]
    data = [_sample(case, s) for s in shapes]
    symbolic = [Input(shape=s, dtype=case.input_dtype) for s in shapes]
    if multi:
        return symbolic, data
    return symbolic[0], data[0]


def _keras_grads(layer):
    """Gradients of the layer's weights, in Keras layout (as get_weights)."""
    return [
        info.layout[0](p.grad) if info.layout else p.grad
        for p, info in layer._weight_entries()
    ]


def check_weights_round_trip(layer, weights):
    """A deep copy keeps the weights' layouts; set_weights/get_weights invert."""
    twin = copy.deepcopy(layer)
    for got, want in zip(twin.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(got, want)
    # Distinct values per element: a layout that permutes them shows.
    probe = [
        (np.arange(w.size) % 251 + 1).reshape(w.shape).astype(w.dtype) for w in weights
    ]
    twin.set_weights(probe)
    for got, want in zip(twin.get_weights(), probe, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(layer.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(got, want)  # the original keeps its own


def check_layer(case: LayerCase):
    layer = case.cls(**case.init_kwargs)
    sym_in, data = _inputs(case)

    # Symbolic call: inferred shape, then the eager shape agrees.
    sym_out = layer(sym_in)
    assert sym_out.shape == case.expected_output_shape
    eager = layer(data)
    assert isinstance(eager, torch.Tensor)
    expected_eager = tuple(
        BATCH if d is None else d for d in case.expected_output_shape
    )
    assert tuple(eager.shape) == expected_eager
    assert sym_out.dtype == eager.dtype

    # Weights: count and Keras-layout shapes.
    weights = layer.get_weights()
    assert len(layer.weights) == len(weights) == case.n_weights
    assert [w.shape for w in weights] == [tuple(s) for s in case.weight_shapes] or (
        not case.weight_shapes
    )
    assert layer.count_params() == sum(w.size for w in weights)
    check_weights_round_trip(layer, weights)

    # Numerical parity with the reference (weights as torch tensors, Keras layout).
    ref_weights = [torch.tensor(w, requires_grad=True) for w in weights]
    floats = [
        d for d in (data if isinstance(data, list) else [data]) if d.is_floating_point()
    ]
    ref_data = [d.clone().requires_grad_(True) for d in floats]
    if isinstance(data, list):
        ref_args = ref_data if floats else data
    else:
        ref_args = ref_data[0] if floats else data
    expected = case.reference_fn(ref_args, ref_weights)
    torch.testing.assert_close(eager, expected.detach(), atol=1e-5, rtol=1e-5)

    # Gradient parity (weights and float inputs), tolerance 1e-4.
    cot = torch.randn(expected.shape)
    layer_data = [d.clone().requires_grad_(True) for d in floats]
    if isinstance(data, list):
        layer_args = layer_data if floats else data
    else:
        layer_args = layer_data[0] if floats else data
    layer.zero_grad()
    (layer(layer_args) * cot).sum().backward()
    (expected * cot).sum().backward()
    for got, want in zip(_keras_grads(layer), ref_weights):
        torch.testing.assert_close(got, want.grad, atol=1e-4, rtol=1e-4)
    for got, want in zip(layer_data, ref_data):
        torch.testing.assert_close(got.grad, want.grad, atol=1e-4, rtol=1e-4)

    # Config: JSON data; from_config(get_config()) rebuilds the same layer.
    config = layer.get_config()
    json.dumps(config)
    clone = case.cls.from_config(config)
    assert type(clone) is case.cls
    assert clone.get_config() == config
    clone(_inputs(case)[0])
    clone.set_weights(weights)
    torch.testing.assert_close(clone(data), eager)

    # Inside a functional model, through predict.
    model_in, _ = _inputs(case)
    model = plait.Model(model_in, layer(model_in))
    predicted = model.predict(
        [d.numpy() for d in data] if isinstance(data, list) else data.numpy(), verbose=0
    )
    np.testing.assert_allclose(predicted, eager.detach().numpy(), atol=1e-6, rtol=1e-6)
    eager_model = model(data)
    torch.testing.assert_close(eager_model, eager)

    # One SGD step changes every trainable weight.
    if layer.trainable_weights:
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        before = [w.detach().clone() for w in layer.trainable_weights]
        loss = (model(data, training=True) * cot).sum()
        loss.backward()
        opt.step()
        for b, w in zip(before, layer.trainable_weights):
            assert not torch.equal(b, w.detach()), "weight did not change"


@pytest.mark.parametrize("case", LAYER_CASES, ids=[c.id for c in LAYER_CASES])
def test_layer_case(case):
    check_layer(case)


def test_layer_cases_ids_are_unique():
    ids = [c.id for c in LAYER_CASES]
    assert len(ids) == len(set(ids))
