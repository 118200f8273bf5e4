"""LocallyConnected1D/2D: Keras 2's arguments, weight shapes and outputs.

The reference is a direct NumPy loop over output positions written from Keras
2's definition (each position has its own kernel; Keras 2's `conv_connected_
inputs` rule for which inputs a position sees; its plain reshape of the bias
with channels_first). The implementation-2 kernel is random; the kernels of
implementations 1 and 3 are derived from it as Keras 2 lays them out, so the
three implementations are checked against one reference.
"""

import itertools
import json

import numpy as np
import pytest
import torch

import plait
from plait import layers as L
from tests.layers.cases import LayerCase
from tests.layers.test_layer_cases import check_layer

CF = "channels_first"


def _connected(size, k, s, padding, p):
    left = k // 2
    center = p * s + (left if padding == "valid" else 0)
    return range(max(0, center - left), min(size, center + k - left))


def _out_len(size, k, s, padding):
    n = size - k + 1 if padding == "valid" else size
    return (n + s - 1) // s


def _reference(x, k2, bias, ks, strides, padding, data_format):
    """y from the implementation-2 kernel `k2` (channels_last: in..., c, out..., f).

    Torch tensors in and out (so the layer cases can check gradients too).
    """
    rank = len(ks)
    if data_format == CF:  # work channels_last; kernel (c, in..., f, out...)
        x = x.movedim(1, -1)
        k2 = k2.movedim(0, rank).movedim(rank + 1, -1)
    in_sp = tuple(x.shape[1:-1])
    out_sp = tuple(_out_len(n, k, s, padding) for n, k, s in zip(in_sp, ks, strides))
    filters = k2.shape[-1]
    y = x.new_zeros((x.shape[0], *out_sp, filters))
    for pos in itertools.product(*(range(d) for d in out_sp)):
        ranges = [
            _connected(in_sp[d], ks[d], strides[d], padding, pos[d])
            for d in range(rank)
        ]
        for inp in itertools.product(*ranges):
            y[(slice(None), *pos)] += (
                x[(slice(None), *inp)] @ k2[(*inp, slice(None), *pos)]
            )
    if data_format == CF:
        y = y.movedim(-1, 1)
        if bias is not None:
            y = y + bias.reshape(1, filters, *out_sp)  # Keras 2's plain reshape
    elif bias is not None:
        y = y + bias
    return y


def _mask(in_sp, ks, strides, padding, data_format):
    out_sp = tuple(_out_len(n, k, s, padding) for n, k, s in zip(in_sp, ks, strides))
    m = np.zeros(in_sp + out_sp)
    for pos in itertools.product(*(range(d) for d in out_sp)):
        ranges = [
            _connected(in_sp[d], ks[d], strides[d], padding, pos[d])
            for d in range(len(ks))
        ]
        for inp in itertools.product(*ranges):
            m[inp + pos] = 1
    len(ks)
    if data_format == CF:
        return m.reshape((1, *in_sp, 1, *out_sp))
    return m.reshape((*in_sp, 1, *out_sp, 1))


def _impl1_kernel(k2, ks, strides, data_format, in_sp, out_sp):
    """Keras 2's implementation-1 kernel (positions, features, filters)."""
    rank = len(ks)
    if data_format == CF:
        k2 = np.moveaxis(np.moveaxis(k2, 0, rank), rank + 1, -1)
    rows = []
    for pos in itertools.product(*(range(d) for d in out_sp)):
        window = tuple(slice(p * s, p * s + k) for p, s, k in zip(pos, strides, ks))
        w = k2[(*window, slice(None), *pos)]  # (k..., c, f)
        if data_format == CF:  # features ordered (c, k...)
            w = np.moveaxis(w, rank, 0)
        rows.append(w.reshape(-1, w.shape[-1]))
    return np.stack(rows)


def _impl3_kernel(k2, rank, data_format):
    """Keras 2's implementation-3 kernel: connected entries sorted by (out, in)."""
    n_in = rank + 1
    dense = k2.reshape(int(np.prod(k2.shape[:n_in])), -1).T  # (out, in)
    return dense[dense != 0]


CASES = [
    (1, (9, 3), 3, 2, "valid", None),
    (1, (3, 9), 2, 1, "valid", CF),
    (1, (8, 2), 3, 1, "same", None),
    (2, (6, 5, 2), (3, 2), (2, 1), "valid", None),
    (2, (2, 6, 5), 3, 1, "valid", CF),
    (2, (5, 4, 2), 3, (2, 1), "same", None),
    (2, (2, 5, 4), (2, 3), 2, "same", CF),
]


def _case_ref(ks, strides, padding, data_format):
    def ref(x, w):
        return _reference(x, w[0], w[1], ks, strides, padding, data_format)

    return ref


# Through the shared check_layer() (tests/layers/test_layer_cases.py): shapes,
# weights, this reference with gradients, config, save/load and a training step.
LOCALLY_CONNECTED_CASES = [
    LayerCase("locally_connected1d_impl2", L.LocallyConnected1D,
              {"filters": 3, "kernel_size": 3, "strides": 2, "implementation": 2},
              (7, 2), (None, 3, 3), 2, _case_ref((3,), (2,), "valid", None),
              ((7, 2, 3, 3), (3, 3))),
    LayerCase("locally_connected2d_cf_same_impl2", L.LocallyConnected2D,
              {"filters": 2, "kernel_size": 2, "padding": "same",
               "data_format": CF, "implementation": 2},
              (2, 4, 3), (None, 2, 4, 3), 2, _case_ref((2, 2), (1, 1), "same", CF),
              ((2, 4, 3, 2, 4, 3), (4, 3, 2))),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rank", "shape", "ks", "strides", "padding", "data_format"), CASES
)
def test_three_implementations_match_the_numpy_reference(
    rank, shape, ks, strides, padding, data_format
):
    rng = np.random.default_rng(0)
    cls = L.LocallyConnected1D if rank == 1 else L.LocallyConnected2D
    ks_t = (ks,) * rank if isinstance(ks, int) else ks
    st_t = (strides,) * rank if isinstance(strides, int) else strides
    in_sp = shape[1:] if data_format == CF else shape[:-1]
    out_sp = tuple(_out_len(n, k, s, padding) for n, k, s in zip(in_sp, ks_t, st_t))
    x = rng.normal(size=(2, *shape))
    layer2 = cls(3, ks, strides=strides, padding=padding, data_format=data_format,
                 implementation=2, activation="tanh")  # fmt: skip
    layer2.build((None, *shape))
    mask = _mask(in_sp, ks_t, st_t, padding, data_format)
    k2 = rng.normal(size=layer2.kernel.shape) * mask
    bias = rng.normal(size=(*out_sp, 3))
    t = torch.from_numpy
    ref = _reference(t(x), t(k2), t(bias), ks_t, st_t, padding, data_format)
    expected = np.tanh(ref.numpy())
    kernels = {2: k2, 3: _impl3_kernel(k2, rank, data_format)}
    if padding == "valid":
        kernels[1] = _impl1_kernel(k2, ks_t, st_t, data_format, in_sp, out_sp)
    for impl, kernel in kernels.items():
        layer = cls(3, ks, strides=strides, padding=padding, data_format=data_format,
                    implementation=impl, activation="tanh", dtype="float64")  # fmt: skip
        layer.build((None, *shape))
        assert tuple(layer.kernel.shape) == kernel.shape, impl
        layer.set_weights([kernel, bias])
        got = layer(torch.from_numpy(x)).detach().numpy()
        np.testing.assert_allclose(
            got, expected, rtol=1e-10, atol=1e-10, err_msg=str(impl)
        )


def test_keras2_weight_shapes():
    x = plait.Input(shape=(10, 4))
    for impl, shape in [(1, (8, 12, 5)), (2, (10, 4, 8, 5)), (3, (8 * 3 * 4 * 5,))]:
        layer = L.LocallyConnected1D(5, 3, implementation=impl)
        layer(x)
        assert [tuple(w.shape) for w in layer.get_weights()] == [shape, (8, 5)]
    img = plait.Input(shape=(3, 6, 5))
    layer = L.LocallyConnected2D(4, 2, data_format=CF, implementation=2)
    layer(img)
    assert tuple(layer.kernel.shape) == (3, 6, 5, 4, 5, 4)
    assert tuple(layer.bias.shape) == (5, 4, 4)


def test_config_round_trip_and_training():
    x = plait.Input(shape=(6, 6, 2))
    y = L.Flatten()(L.LocallyConnected2D(2, 3, implementation=3, activation="relu")(x))
    model = plait.Model(x, L.Dense(1)(y))
    clone = plait.models.model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    data = torch.randn(4, 6, 6, 2)
    torch.testing.assert_close(
        clone.predict(data, verbose=0), model.predict(data, verbose=0)
    )
    config = json.loads(model.to_json())["config"]["layers"][1]["config"]
    assert config["implementation"] == 3
    assert config["kernel_size"] == [3, 3]
    model.compile("sgd", "mse")
    before = model.get_weights()[0].copy()
    model.fit(data, torch.randn(4, 1), epochs=1, verbose=0)
    assert not np.allclose(before, model.get_weights()[0])


def test_errors():
    with pytest.raises(
        ValueError,
        match=r"LocallyConnected1D layer .*expected padding='valid' with implementation=1",
    ):
        L.LocallyConnected1D(2, 3, padding="same")
    with pytest.raises(
        ValueError,
        match=r"expected `implementation` in \(1, 2, 3\), got implementation=4",
    ):
        L.LocallyConnected2D(2, 3, implementation=4)
    with pytest.raises(
        ValueError, match=r"expected the input's spatial dimensions to be known"
    ):
        L.LocallyConnected1D(2, 3)(plait.Input(shape=(None, 3)))


@pytest.mark.parametrize(
    "case", LOCALLY_CONNECTED_CASES, ids=[c.id for c in LOCALLY_CONNECTED_CASES]
)
def test_layer_case(case, tmp_path):
    check_layer(case, tmp_path)
