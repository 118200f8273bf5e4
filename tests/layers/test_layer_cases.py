"""Every LAYER_CASES row through one shared `check_layer()`, which the per-module
case lists (test_convolutional.py, test_pooling.py, ...) share; and the check
that every public layer class has a case in one of them.
"""

import copy
import importlib
import json
import pkgutil

import numpy as np
import pytest
import torch

import plait
from plait.layers import Input, InputLayer, Layer
from plait.models import load_model
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


def check_reference(case: LayerCase, layer, data, eager, weights):
    """Forward parity with the reference, then gradient parity (tolerance 1e-4)."""
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

    cot = torch.randn(expected.shape)
    layer_data = [d.clone().requires_grad_(True) for d in floats]
    if isinstance(data, list):
        layer_args = layer_data if floats else data
    else:
        layer_args = layer_data[0] if floats else data
    layer.zero_grad()
    (case.apply(layer, layer_args) * cot).sum().backward()
    (expected * cot).sum().backward()
    for got, want in zip(_keras_grads(layer), ref_weights):
        torch.testing.assert_close(got, want.grad, atol=1e-4, rtol=1e-4)
    for got, want in zip(layer_data, ref_data):
        torch.testing.assert_close(got.grad, want.grad, atol=1e-4, rtol=1e-4)


def check_save_load(model, layer, data, path):
    """model.save then load_model: same layer config, weights and predictions."""
    model.save(path)
    loaded = load_model(path)
    twin = loaded.get_layer(layer.name)
    assert type(twin) is type(layer)
    assert twin.get_config() == layer.get_config()
    for got, want in zip(twin.get_weights(), layer.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    np_data = [d.numpy() for d in data] if isinstance(data, list) else data.numpy()
    np.testing.assert_array_equal(
        loaded.predict(np_data, verbose=0), model.predict(np_data, verbose=0)
    )


def check_layer(case: LayerCase, tmp_path):
    # In inference mode: a random augmentation layer called alone, mode never
    # set, augments (Keras's default for them), and predict does not.
    layer = case.make_layer().eval()
    sym_in, data = _inputs(case)

    # Symbolic call: inferred shape, then the eager shape agrees.
    sym_out = case.apply(layer, sym_in)
    assert sym_out.shape == case.expected_output_shape
    eager = case.apply(layer, data)
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
    if case.reference_fn is not None:
        check_reference(case, layer, data, eager, weights)

    # Config: JSON data; from_config(get_config()) rebuilds the same layer.
    config = layer.get_config()
    json.dumps(config)
    clone = case.cls.from_config(config).eval()
    assert type(clone) is case.cls
    assert clone.get_config() == config
    case.apply(clone, _inputs(case)[0])
    clone.set_weights(weights)
    torch.testing.assert_close(case.apply(clone, data), eager)

    # Inside a functional model, through predict.
    model_in, _ = _inputs(case)
    model = plait.Model(model_in, case.apply(layer, model_in)).eval()
    predicted = model.predict(
        [d.numpy() for d in data] if isinstance(data, list) else data.numpy(), verbose=0
    )
    np.testing.assert_allclose(predicted, eager.detach().numpy(), atol=1e-6, rtol=1e-6)
    eager_model = model(data)
    torch.testing.assert_close(eager_model, eager)

    # One SGD step changes every trainable weight.
    cot = torch.randn(eager.shape)
    if layer.trainable_weights:
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        before = [w.detach().clone() for w in layer.trainable_weights]
        loss = (model(data, training=True) * cot).sum()
        loss.backward()
        opt.step()
        for b, w in zip(before, layer.trainable_weights):
            assert not torch.equal(b, w.detach()), "weight did not change"

    # Saved and loaded through the model (trained weights, not the initial ones).
    check_save_load(model, layer, data, tmp_path / "m.plait")


@pytest.mark.parametrize("case", LAYER_CASES, ids=[c.id for c in LAYER_CASES])
def test_layer_case(case, tmp_path):
    check_layer(case, tmp_path)


def test_layer_cases_ids_are_unique():
    ids = [c.id for c in LAYER_CASES]
    assert len(ids) == len(set(ids))


# Public layer classes with no case, and why. Everything else needs a case.
NOT_CASES = {
    Layer: "the base class: its `call` is the subclass's to define",
    InputLayer: "a graph's entry, not called on tensors; every case starts from one",
    plait.layers.StringLookup: "string inputs: tests/layers/preprocessing/test_lookup.py",
    plait.layers.TextVectorization: (
        "string inputs: tests/layers/preprocessing/test_text_vectorization.py"
    ),
}


def public_layer_classes():
    """Every distinct Layer subclass that `plait.layers` exports (aliases once)."""
    found = {}
    for name in dir(plait.layers):
        obj = getattr(plait.layers, name)
        if (
            not name.startswith("_")
            and isinstance(obj, type)
            and issubclass(obj, Layer)
        ):
            found.setdefault(obj, name)
    return found


def all_layer_cases():
    """LAYER_CASES and every module-level list of cases in tests/layers/test_*.py."""
    import tests.layers

    found = list(LAYER_CASES)
    for info in pkgutil.iter_modules(tests.layers.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"tests.layers.{info.name}")
        for value in vars(module).values():
            if value is LAYER_CASES or not isinstance(value, list) or not value:
                continue
            if all(isinstance(c, LayerCase) for c in value):
                found += value
    return found


def test_every_public_layer_has_a_case():
    cases = all_layer_cases()
    covered = {c.cls for c in cases} | {k for c in cases for k in c.covers}
    public = public_layer_classes()
    missing = sorted(
        name for cls, name in public.items() if cls not in covered | NOT_CASES.keys()
    )
    assert not missing, f"public layers without a LayerCase: {missing}"
    assert NOT_CASES.keys() <= public.keys()  # no stale exclusions
    assert not NOT_CASES.keys() & covered
