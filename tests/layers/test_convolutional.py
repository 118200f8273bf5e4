"""Conv1D/2D/3D, transposed, depthwise and separable convolutions.

Each case runs through the shared `check_layer()` (symbolic == eager shape,
weights, parity against torch's NCHW ops with the Keras-layout weights copied
across, gradients, config round trip, Model + predict, one SGD step). Keras
parity itself lives in `tests/parity/test_conv_parity.py`.
"""

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

import plait
from plait import constraints
from plait import layers as L
from tests.layers.cases import LayerCase
from tests.layers.test_layer_cases import check_layer

CF = "channels_first"
_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


# ------------------------------------------------------------------ references
def _tup(v, rank):
    return (v,) * rank if isinstance(v, int) else tuple(v)


def _nc(x, data_format):
    """Channels-last -> a contiguous (batch, channels, *spatial) tensor."""
    return x if data_format == CF else x.movedim(-1, 1).contiguous()


def _back(y, data_format):
    return y if data_format == CF else y.movedim(1, -1)


def _same(n, k, s, d=1):
    """TF's SAME padding of one axis: ceil(n / s) outputs, odd element last."""
    eff = (k - 1) * d + 1
    total = max(0, (math.ceil(n / s) - 1) * s + eff - n)
    return total // 2, total - total // 2


def _pad(x, pairs, value=0.0):
    flat = [v for lo, hi in reversed(pairs) for v in (lo, hi)]
    return F.pad(x, flat, value=value)


def _pairs(padding, sizes, kernel, strides, dilation):
    if padding == "same":
        return [_same(*a) for a in zip(sizes, kernel, strides, dilation)]
    if padding == "causal":
        return [(dilation[0] * (kernel[0] - 1), 0)]
    return [(0, 0)] * len(sizes)


def _torch_kernel(w, rank):
    """Keras (*k, a, b) -> torch (b, a, *k)."""
    return w.permute(rank + 1, rank, *range(rank))


def conv_ref(rank, strides=1, padding="valid", dilation=1, groups=1, df=None, act=None):
    def ref(x, w):
        xt = _nc(x, df)
        k, s, d = w[0].shape[:rank], _tup(strides, rank), _tup(dilation, rank)
        pairs = _pairs(padding, xt.shape[2:], k, s, d)
        bias = w[1] if len(w) > 1 else None
        y = _CONV[rank](
            _pad(xt, pairs), _torch_kernel(w[0], rank), bias, s, 0, d, groups
        )
        return _back(act(y) if act else y, df)

    return ref


def conv_transpose_ref(
    rank, out_sizes, strides=1, padding="valid", dilation=1, df=None
):
    """A transposed conv is the input-gradient of the conv it transposes (as in TF).

    The forward conv maps an output-sized tensor to the input's size with
    Keras's padding of that output size; its vector-Jacobian product at the
    input is the reference.
    """

    def ref(x, w):
        xt = _nc(x, df)
        k, s, d = w[0].shape[:rank], _tup(strides, rank), _tup(dilation, rank)
        z = torch.zeros(xt.shape[0], w[0].shape[rank], *out_sizes, requires_grad=True)
        pairs = _pairs(padding, out_sizes, k, s, d)
        y = _CONV[rank](_pad(z, pairs), _torch_kernel(w[0], rank), None, s, 0, d)
        assert y.shape == xt.shape
        (out,) = torch.autograd.grad(y, z, grad_outputs=xt, create_graph=True)
        if len(w) > 1:
            out = out + w[1].reshape(-1, *(1,) * rank)
        return _back(out, df)

    return ref


def depthwise_ref(
    rank, strides=1, padding="valid", dilation=1, df=None, pointwise=False
):
    def ref(x, w):
        xt = _nc(x, df)
        k, s, d = w[0].shape[:rank], _tup(strides, rank), _tup(dilation, rank)
        channels, mult = w[0].shape[rank], w[0].shape[rank + 1]
        kernel = w[0].reshape(*k, 1, channels * mult)  # output c * mult + m
        pairs = _pairs(padding, xt.shape[2:], k, s, d)
        bias = w[-1] if len(w) == (3 if pointwise else 2) else None
        y = _CONV[rank](
            _pad(xt, pairs), _torch_kernel(kernel, rank), None if pointwise else bias,
            s, 0, d, channels,
        )  # fmt: skip
        if pointwise:
            y = _CONV[rank](y, _torch_kernel(w[1], rank), bias)
        return _back(y, df)

    return ref


# ------------------------------------------------------------------ cases
def _case(id_, cls, kwargs, in_shape, out_shape, n_weights, ref, weight_shapes=()):
    return LayerCase(
        id_, cls, kwargs, in_shape, out_shape, n_weights, ref, weight_shapes
    )


CONV_CASES = [
    _case("conv1d", L.Conv1D, {"filters": 4, "kernel_size": 3}, (7, 3), (None, 5, 4),
          2, conv_ref(1), ((3, 3, 4), (4,))),
    _case("conv1d_same_s2", L.Conv1D, {"filters": 4, "kernel_size": 4, "strides": 2,
                                       "padding": "same"}, (7, 3), (None, 4, 4), 2,
          conv_ref(1, 2, "same")),
    _case("conv1d_causal_d2", L.Conv1D, {"filters": 2, "kernel_size": 3,
                                         "padding": "causal", "dilation_rate": 2},
          (7, 3), (None, 7, 2), 2, conv_ref(1, 1, "causal", 2)),
    _case("conv1d_cf_groups", L.Conv1D, {"filters": 4, "kernel_size": 2, "groups": 2,
                                         "data_format": CF}, (4, 6), (None, 4, 5), 2,
          conv_ref(1, groups=2, df=CF), ((2, 2, 4), (4,))),
    _case("conv2d", L.Conv2D, {"filters": 4, "kernel_size": (3, 2)}, (6, 5, 3),
          (None, 4, 4, 4), 2, conv_ref(2), ((3, 2, 3, 4), (4,))),
    _case("conv2d_same_k2", L.Conv2D, {"filters": 3, "kernel_size": 2,
                                       "padding": "same"}, (5, 4, 2), (None, 5, 4, 3),
          2, conv_ref(2, 1, "same")),
    _case("conv2d_same_s2", L.Conv2D, {"filters": 3, "kernel_size": 3, "strides": 2,
                                       "padding": "same"}, (6, 7, 2), (None, 3, 4, 3),
          2, conv_ref(2, 2, "same")),
    _case("conv2d_dilation_relu", L.Conv2D, {"filters": 3, "kernel_size": 3,
                                             "dilation_rate": (2, 1),
                                             "activation": "relu"}, (7, 5, 2),
          (None, 3, 3, 3), 2, conv_ref(2, dilation=(2, 1), act=torch.relu)),
    _case("conv2d_stride_and_dilation", L.Conv2D, {"filters": 2, "kernel_size": 2,
                                                   "strides": 2, "dilation_rate": 2,
                                                   "padding": "same"}, (7, 6, 2),
          (None, 4, 3, 2), 2, conv_ref(2, 2, "same", 2)),
    _case("conv2d_groups_no_bias", L.Conv2D, {"filters": 6, "kernel_size": 3,
                                              "groups": 3, "use_bias": False},
          (5, 5, 3), (None, 3, 3, 6), 1, conv_ref(2, groups=3), ((3, 3, 1, 6),)),
    _case("conv2d_cf_same", L.Conv2D, {"filters": 3, "kernel_size": 3, "strides": 2,
                                       "padding": "same", "data_format": CF},
          (2, 5, 6), (None, 3, 3, 3), 2, conv_ref(2, 2, "same", df=CF)),
    _case("conv3d_same", L.Conv3D, {"filters": 2, "kernel_size": 2, "padding": "same"},
          (3, 4, 3, 2), (None, 3, 4, 3, 2), 2, conv_ref(3, 1, "same"),
          ((2, 2, 2, 2, 2), (2,))),
    _case("conv3d_cf_s2", L.Conv3D, {"filters": 2, "kernel_size": (1, 2, 3),
                                     "strides": 2, "data_format": CF},
          (2, 3, 4, 5), (None, 2, 2, 2, 2), 2, conv_ref(3, 2, df=CF)),
    # transposed
    _case("conv1dt_same_s2", L.Conv1DTranspose, {"filters": 3, "kernel_size": 3,
                                                 "strides": 2, "padding": "same"},
          (4, 2), (None, 8, 3), 2, conv_transpose_ref(1, (8,), 2, "same"),
          ((3, 3, 2), (3,))),
    _case("conv2dt_valid", L.Conv2DTranspose, {"filters": 3, "kernel_size": (3, 2)},
          (3, 4, 2), (None, 5, 5, 3), 2, conv_transpose_ref(2, (5, 5))),
    _case("conv2dt_same_k3_s2", L.Conv2DTranspose, {"filters": 2, "kernel_size": 3,
                                                    "strides": 2, "padding": "same"},
          (3, 4, 2), (None, 6, 8, 2), 2, conv_transpose_ref(2, (6, 8), 2, "same")),
    _case("conv2dt_same_k4_s2", L.Conv2DTranspose, {"filters": 2, "kernel_size": 4,
                                                    "strides": 2, "padding": "same"},
          (3, 4, 2), (None, 6, 8, 2), 2, conv_transpose_ref(2, (6, 8), 2, "same")),
    _case("conv2dt_valid_s3_k2", L.Conv2DTranspose, {"filters": 2, "kernel_size": 2,
                                                     "strides": 3}, (2, 3, 2),
          (None, 6, 9, 2), 2, conv_transpose_ref(2, (6, 9), 3)),
    _case("conv2dt_output_padding", L.Conv2DTranspose, {"filters": 2, "kernel_size": 3,
                                                        "strides": 2,
                                                        "padding": "same",
                                                        "output_padding": (1, 0)},
          (3, 4, 2), (None, 6, 7, 2), 2, conv_transpose_ref(2, (6, 7), 2, "same")),
    _case("conv2dt_cf_no_bias", L.Conv2DTranspose, {"filters": 2, "kernel_size": 2,
                                                    "strides": 2, "use_bias": False,
                                                    "data_format": CF},
          (3, 3, 4), (None, 2, 6, 8), 1, conv_transpose_ref(2, (6, 8), 2, df=CF)),
    _case("conv3dt_same", L.Conv3DTranspose, {"filters": 2, "kernel_size": 3,
                                              "strides": (1, 2, 2), "padding": "same"},
          (2, 3, 2, 2), (None, 2, 6, 4, 2), 2,
          conv_transpose_ref(3, (2, 6, 4), (1, 2, 2), "same"), ((3, 3, 3, 2, 2), (2,))),
    # depthwise / separable
    _case("dwconv1d_dm2", L.DepthwiseConv1D, {"kernel_size": 3, "depth_multiplier": 2,
                                              "padding": "same"}, (6, 3), (None, 6, 6),
          2, depthwise_ref(1, padding="same"), ((3, 3, 2), (6,))),
    _case("dwconv2d_s2", L.DepthwiseConv2D, {"kernel_size": 3, "strides": 2,
                                             "padding": "same"}, (5, 6, 3),
          (None, 3, 3, 3), 2, depthwise_ref(2, 2, "same"), ((3, 3, 3, 1), (3,))),
    _case("dwconv2d_cf_dm3", L.DepthwiseConv2D, {"kernel_size": 2,
                                                 "depth_multiplier": 3,
                                                 "data_format": CF},
          (2, 4, 5), (None, 6, 3, 4), 2, depthwise_ref(2, df=CF)),
    _case("sepconv1d", L.SeparableConv1D, {"filters": 4, "kernel_size": 3,
                                           "depth_multiplier": 2}, (6, 3),
          (None, 4, 4), 3, depthwise_ref(1, pointwise=True),
          ((3, 3, 2), (1, 6, 4), (4,))),
    _case("sepconv2d_same", L.SeparableConv2D, {"filters": 4, "kernel_size": 2,
                                                "padding": "same", "strides": 2},
          (5, 4, 3), (None, 3, 2, 4), 3, depthwise_ref(2, 2, "same", pointwise=True),
          ((2, 2, 3, 1), (1, 1, 3, 4), (4,))),
    _case("sepconv2d_cf_no_bias", L.SeparableConv2D, {"filters": 4, "kernel_size": 3,
                                                      "use_bias": False,
                                                      "dilation_rate": 2,
                                                      "data_format": CF},
          (3, 6, 5), (None, 4, 2, 1), 2,
          depthwise_ref(2, dilation=2, df=CF, pointwise=True)),
]  # fmt: skip


@pytest.mark.parametrize("case", CONV_CASES, ids=[c.id for c in CONV_CASES])
def test_conv_layer_case(case, tmp_path):
    check_layer(case, tmp_path)


# ------------------------------------------------------------------ channels-last
class _RecordOps(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (L.Conv2D(4, 3, padding="same"), (2, 6, 6, 3)),
        (L.Conv1D(4, 3), (2, 6, 3)),
        (L.Conv3D(2, 2), (2, 3, 3, 3, 2)),
        (L.Conv2DTranspose(4, 4, strides=2, padding="same"), (2, 3, 3, 2)),
        (L.DepthwiseConv2D(3, padding="same"), (2, 5, 5, 3)),
    ],
    ids=["conv2d", "conv1d", "conv3d", "conv2dt", "depthwise"],
)
def test_conv_runs_on_channels_last_memory_without_copies(layer, shape):
    x = torch.randn(shape)
    layer(x)  # build
    rank = len(shape) - 2
    view = x.unsqueeze(1).movedim(-1, 1) if rank == 1 else x.movedim(-1, 1)
    fmt = torch.channels_last_3d if rank == 3 else torch.channels_last
    assert view.is_contiguous(memory_format=fmt)  # NHWC viewed as NCHW: no copy
    with _RecordOps() as rec:
        y = layer(x)
    copies = {"clone", "contiguous", "copy_", "_to_copy", "constant_pad_nd"}
    assert not copies & set(rec.ops), rec.ops
    assert "convolution" in rec.ops
    assert y.is_contiguous()  # the output comes back channels-last, dense


def test_conv2d_asymmetric_same_padding_pads_once():
    layer = L.Conv2D(2, 2, padding="same")  # total padding 1: at the end only
    x = torch.randn(1, 4, 4, 1)
    with _RecordOps() as rec:
        layer(x)
    assert rec.ops.count("constant_pad_nd") == 1


# ------------------------------------------------------------------ guide cases
def test_conv2d_shared_on_two_input_sizes(fresh_names):
    conv = L.Conv2D(16, (3, 3), padding="same")
    a = conv(plait.Input(shape=(32, 32, 3)))
    b = conv(plait.Input(shape=(64, 64, 3)))
    assert conv.get_input_shape_at(0) == (None, 32, 32, 3)
    assert conv.get_input_shape_at(1) == (None, 64, 64, 3)
    assert conv.get_output_shape_at(1) == (None, 64, 64, 16)
    assert (a.shape, b.shape) == ((None, 32, 32, 16), (None, 64, 64, 16))
    with pytest.raises(AttributeError, match="multiple inbound nodes"):
        _ = conv.output
    assert conv(torch.randn(1, 9, 7, 3)).shape == (1, 9, 7, 16)


def test_conv_model_unknown_spatial_dims_and_predict():
    x = plait.Input(shape=(None, None, 3))
    h = L.Conv2D(4, 3, strides=2, padding="same", activation="relu")(x)
    h = L.Conv2DTranspose(2, 3, strides=2, padding="same")(h)
    assert h.shape == (None, None, None, 2)
    model = plait.Model(x, L.SeparableConv2D(5, 3)(h))
    assert model.output_shape == (None, None, None, 5)
    out = model.predict(np.random.rand(2, 9, 8, 3).astype("float32"), verbose=0)
    assert out.shape == (2, 8, 6, 5)


def test_conv_compute_output_shape_keeps_none():
    assert L.Conv2D(4, 3).compute_output_shape((None, None, 8, 3)) == (
        None, None, 6, 4,
    )  # fmt: skip
    assert L.Conv1D(2, 3, strides=2, padding="causal").compute_output_shape(
        (None, 9, 1)
    ) == (None, 5, 2)
    assert L.Conv2DTranspose(2, 3, strides=2).compute_output_shape(
        (None, 4, None, 1)
    ) == (None, 9, None, 2)


def test_conv_pre_activation_is_the_logits():
    conv = L.Conv2D(3, 1, activation="softmax")
    x = torch.randn(2, 2, 2, 4)
    torch.testing.assert_close(conv(x), torch.softmax(conv._pre_activation(x), -1))


def test_conv_casts_inputs_to_its_dtype():
    conv = L.Conv1D(2, 1)
    assert conv(torch.ones(1, 3, 2, dtype=torch.float64)).dtype == torch.float32


def test_conv_kernel_stored_in_torch_layout_keras_layout_exposed():
    conv = L.Conv2D(5, (3, 2))
    conv(torch.zeros(1, 4, 4, 3))
    assert tuple(conv.kernel.shape) == (5, 3, 3, 2)  # (filters, in, kh, kw)
    assert conv.get_weights()[0].shape == (3, 2, 3, 5)
    conv_t = L.Conv2DTranspose(5, 2)
    conv_t(torch.zeros(1, 4, 4, 3))
    assert tuple(conv_t.kernel.shape) == (3, 5, 2, 2)  # (in, filters, kh, kw)
    assert conv_t.get_weights()[0].shape == (2, 2, 5, 3)


def test_depthwise_weights_round_trip_keras_layout():
    layer = L.DepthwiseConv2D(2, depth_multiplier=3)
    layer(torch.zeros(1, 4, 4, 2))
    kernel = np.arange(24, dtype="float32").reshape(2, 2, 2, 3)
    layer.set_weights([kernel, np.zeros(6, "float32")])
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)
    assert tuple(layer.kernel.shape) == (6, 1, 2, 2)


# ------------------------------------------------------------------ errors
def test_conv_wrong_rank_names_layer_and_layout(fresh_names):
    L.Conv2D(2, 3)
    with pytest.raises(
        ValueError,
        match=r"^Conv2D layer 'conv2d_1': expected input with 4 dims "
        r"\(batch, rows, cols, channels\), got shape \(None, 32\)\.$",
    ):
        L.Conv2D(2, 3)(plait.Input(shape=(32,)))
    with pytest.raises(ValueError, match=r"3 dims \(batch, channels, steps\)"):
        L.Conv1D(2, 3, data_format=CF)(plait.Input(shape=(4, 4, 4)))
    with pytest.raises(
        ValueError, match=r"5 dims \(batch, depth, rows, cols, channels"
    ):
        L.Conv3DTranspose(2, 3)(torch.zeros(2, 4, 4, 4))


def test_conv_channel_axis_fixed_after_first_call():
    conv = L.Conv2D(2, 3)
    conv(plait.Input(shape=(8, 8, 3)))
    with pytest.raises(ValueError, match=r"last axis 3 \(from its first call\)"):
        conv(plait.Input(shape=(8, 8, 4)))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: L.Conv2D(4, 3, padding="foo"),
         r"expected padding in \('valid', 'same'\), got padding='foo'"),
        (lambda: L.Conv2D(4, 3, padding="causal"),
         r"expected padding in \('valid', 'same'\), got padding='causal'"),
        (lambda: L.Conv1D(4, 3, padding="full"),
         r"expected padding in \('valid', 'same', 'causal'\)"),
        (lambda: L.Conv2D(-1, 3), r"expected `filters` to be a positive int, got filters=-1"),
        (lambda: L.Conv2D(5, 3, groups=2),
         r"expected `filters` divisible by `groups`, got filters=5, groups=2"),
        (lambda: L.Conv2D(4, (3, 3, 3)),
         r"expected `kernel_size` to be an int or a tuple of 2 ints, got kernel_size=\(3, 3, 3\)"),
        (lambda: L.Conv2D(4, 3, strides=0), r"expected `strides` values to be positive"),
        (lambda: L.Conv2D(4, 3, data_format="NHWC"),
         r"expected data_format in \('channels_last', 'channels_first'\)"),
        (lambda: L.Conv2DTranspose(4, 3, strides=2, output_padding=2),
         r"expected `output_padding` smaller than `strides`"),
        (lambda: L.Conv2DTranspose(4, 3, padding="causal"),
         r"expected padding in \('valid', 'same'\)"),
        (lambda: L.DepthwiseConv2D(3, depth_multiplier=0),
         r"expected `depth_multiplier` to be a positive int"),
        (lambda: L.SeparableConv2D(0, 3), r"expected `filters` to be a positive int"),
    ],
)  # fmt: skip
def test_conv_rejects_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_conv_rejects_unknown_kwarg():
    with pytest.raises(TypeError, match=r"unexpected keyword argument \['filter'\]"):
        L.Conv2D(4, 3, filter=2)


def test_conv_input_channels_must_divide_into_groups():
    with pytest.raises(
        ValueError, match=r"expected input channels divisible by groups=2, got shape"
    ):
        L.Conv2D(4, 3, groups=2)(plait.Input(shape=(8, 8, 3)))


def test_conv_unknown_channels_cannot_build():
    with pytest.raises(ValueError, match=r"expected the channel axis of the input"):
        L.Conv2D(4, 3)(plait.Input(shape=(8, 8, None)))


def test_conv_valid_window_larger_than_input():
    with pytest.raises(
        ValueError, match=r"expected an input large enough for the window"
    ):
        L.Conv2D(4, 5)(plait.Input(shape=(3, 8, 2)))


def test_conv_padding_is_case_insensitive_and_normalized():
    conv = L.Conv2D(2, 3, padding="SAME")
    assert conv.get_config()["padding"] == "same"


def test_conv_keras2_aliases():
    assert L.Convolution2D is L.Conv2D
    assert L.Convolution2DTranspose is L.Conv2DTranspose
    assert L.SeparableConvolution2D is L.SeparableConv2D


def test_conv_regularizer_adds_loss():
    conv = L.Conv2D(2, 1, kernel_regularizer=lambda w: w.square().sum())
    conv(torch.ones(1, 2, 2, 1))
    (loss,) = conv.losses
    torch.testing.assert_close(loss, conv.kernel.square().sum())


def test_conv_regularizers_and_constraints_by_name_round_trip():
    conv = L.SeparableConv2D(
        2,
        3,
        depthwise_regularizer="l2",
        pointwise_constraint="non_neg",
        activity_regularizer="l1",
        bias_constraint=constraints.MaxNorm(1.0),
    )
    config = conv.get_config()
    json.dumps(config)
    assert config["pointwise_constraint"]["class_name"] == "NonNeg"
    assert L.SeparableConv2D.from_config(config).get_config() == config
    conv_t = L.Conv2DTranspose(2, 3, kernel_regularizer="l1_l2")
    assert L.Conv2DTranspose.from_config(conv_t.get_config()).get_config() == (
        conv_t.get_config()
    )


def test_conv_constraint_sees_keras_layout():
    seen = []

    def record(w):
        seen.append(tuple(w.shape))
        return w.clamp(min=0)

    conv = L.Conv2D(2, (3, 1), kernel_constraint=record)
    conv(torch.zeros(1, 4, 4, 5))
    constraints.apply_constraints(conv)
    assert seen == [(3, 1, 5, 2)]
    assert (conv.get_weights()[0] >= 0).all()
