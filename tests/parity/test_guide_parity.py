"""The GUIDE.md models against Keras 3 numbers saved by `make_guide_golden.py`.

Each model is built by `plait.examples.guide`; its weight shapes in `get_weights()`
order must equal Keras's (same order), then the same seeded weights and inputs
(`guide_data.py`) must give Keras's outputs (1e-5) and the gradients of
`sum(out ** 2)` with respect to the floating inputs and to the first and last
weight arrays (1e-4): relative, plus the same absolute term scaled down to the
array's peak magnitude where that is below 1.
The VQA and video QA models (165M and 169M weights) are built on torch's meta
device for their shapes and parameter count; VQA's numbers are compared in the slow
run only (drawing its weights takes seconds) and video QA's not at all (100 frames
of 224x224 per sample). No Keras needed.
"""

import numpy as np
import pytest
import torch

from plait.examples import guide
from tests.parity import guide_data as gd

FILES = {p.stem: p for p in sorted(gd.GOLDEN.glob("*.npz"))}


def _load(name):
    with np.load(FILES[name]) as npz:
        return dict(npz)


def _build(name):
    model = getattr(guide, name)()
    return model[0] if isinstance(model, tuple) else model


def _keras_shapes(model):
    """Weight shapes in Keras layout and `get_weights()` order, without copying data."""
    shapes = []
    for p in model.weights:
        layout = model._owner_layout(p)
        shapes.append(list((layout[0](p.detach()) if layout else p).shape))
    return shapes


def _keras_grad(model, p):
    layout = model._owner_layout(p)
    return (layout[0](p.grad) if layout else p.grad).numpy()


def _check(data, key, got, tol):
    # `tol`, relative to the array's own scale where it peaks below 1: an absolute
    # 1e-4 would let a softmax model's 0.01-sized gradients be 1% off.
    atol = tol * min(1.0, gd.peak(data, key))
    gd.check_array(data, key, got, atol=atol, rtol=tol)


def _output_shapes(model):
    return [list(t.shape) for t in model.outputs]


NUMERIC = [
    pytest.param(name, marks=pytest.mark.slow) if name in gd.SLOW else name
    for name in gd.NUMERIC
]


def test_guide_golden_files_exist_and_are_small():
    assert set(FILES) == {*gd.NUMERIC, *gd.SHAPES_ONLY}
    for path in FILES.values():
        assert path.stat().st_size < gd.MAX_BYTES


@pytest.mark.parametrize("name", NUMERIC)
def test_guide_model_matches_keras(name):
    data = _load(name)
    meta = gd.read_meta(data)
    assert meta["scale"] == gd.NUMERIC[name][1]
    model = _build(name)
    shapes = [list(w.shape) for w in model.get_weights()]
    assert shapes == meta["weight_shapes"]  # same shapes, same order as Keras
    assert model.count_params() == meta["count_params"]
    assert _output_shapes(model) == meta["output_shapes"]
    model.set_weights(gd.make_weights(name, shapes))

    inputs = gd.make_inputs(name)
    for i, x in enumerate(inputs):  # the seeds draw what Keras saw
        gd.check_array(data, f"x{i}", x, atol=0, rtol=0)
    tensors = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in inputs]
    out = model(tensors if len(tensors) > 1 else tensors[0])
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    assert len(outs) == len(meta["output_shapes"])
    for i, o in enumerate(outs):
        _check(data, f"out{i}", o.detach().numpy(), 1e-5)

    sum((o**2).sum() for o in outs).backward()
    for i, t in enumerate(tensors):
        assert gd.has_array(data, f"gx{i}") == t.requires_grad
        if t.requires_grad:
            _check(data, f"gx{i}", t.grad.numpy(), 1e-4)
    _check(data, "gw_first", _keras_grad(model, model.weights[0]), 1e-4)
    _check(data, "gw_last", _keras_grad(model, model.weights[-1]), 1e-4)


@pytest.mark.parametrize("name", gd.BIG)
def test_guide_big_model_shapes_match_keras(name):
    meta = gd.read_meta(_load(name))
    with torch.device("meta"):  # full size, no memory: shapes only
        model = _build(name)
    assert _keras_shapes(model) == meta["weight_shapes"]
    assert model.count_params() == meta["count_params"]
    assert _output_shapes(model) == meta["output_shapes"]


@pytest.mark.slow
@pytest.mark.parametrize("name", gd.SHAPES_ONLY)
def test_guide_big_model_real_weights_match_keras_shapes(name):
    meta = gd.read_meta(_load(name))
    model = _build(name)
    assert [list(w.shape) for w in model.get_weights()] == meta["weight_shapes"]
    assert model.count_params() == meta["count_params"]
