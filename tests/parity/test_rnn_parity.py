"""Recurrent layers against Keras 3 numbers saved by `make_rnn_golden.py` (no Keras needed).

Each golden file is run twice: on the default path (torch's fused kernels where the
configuration allows) and with the step loop forced (`use_cudnn=False`), so both
paths are held to Keras's outputs (1e-5) and gradients (1e-4).
"""

import json
import pathlib

import numpy as np
import pytest
import torch

from plait import layers as L
from plait.layers.rnn import RNN

GOLDEN = pathlib.Path(__file__).parent / "golden"
FILES = sorted(GOLDEN.glob("rnn_*.npz"))


def _build(spec):
    layer = getattr(L, spec["layer"])(**spec["kwargs"])
    if spec["wrapper"]:
        layer = getattr(L, spec["wrapper"])(layer, **spec["wrapper_kwargs"])
    return layer


def _rnns(layer):
    return [m for m in layer.modules() if isinstance(m, RNN)]


def _keras_grad(layer, p):
    layout = layer._owner_layout(p)
    return (layout[0](p.grad) if layout else p.grad).numpy()


def test_rnn_golden_files_exist():
    assert len(FILES) >= 20


@pytest.mark.parametrize("force_loop", [False, True], ids=["auto", "loop"])
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem[4:])
def test_rnn_matches_keras(path, force_loop):
    with np.load(path) as npz:
        data = dict(npz)
    spec = json.loads(str(data["spec"]))
    layer = _build(spec)
    if force_loop:
        if not _rnns(layer) or spec["layer"] == "ConvLSTM2D":
            pytest.skip("no fused path to turn off")
        for rnn in _rnns(layer):
            rnn.use_cudnn = False
    x = torch.tensor(data["x"], requires_grad=True)
    kwargs = {}
    if "mask" in data:
        kwargs["mask"] = torch.tensor(data["mask"])
    states = [torch.tensor(data[f"s{i}"]) for i in range(4) if f"s{i}" in data]
    if states:
        kwargs["initial_state"] = states
    layer._build_for(tuple(x.shape))
    n_weights = len([k for k in data if k.startswith("w")])
    layer.set_weights([data[f"w{i}"] for i in range(n_weights)])

    out = layer(x, **kwargs)
    outs = out if isinstance(out, list) else [out]
    n_out = len([k for k in data if k.startswith("out")])
    assert len(outs) == n_out
    for i, o in enumerate(outs):
        np.testing.assert_allclose(
            o.detach().numpy(), data[f"out{i}"], atol=1e-5, rtol=1e-5
        )
    sum((o**2).sum() for o in outs).backward()
    np.testing.assert_allclose(x.grad.numpy(), data["gx"], atol=1e-4, rtol=1e-4)
    for i, p in enumerate(layer.weights):
        np.testing.assert_allclose(
            _keras_grad(layer, p), data[f"gw{i}"], atol=1e-4, rtol=1e-4
        )
