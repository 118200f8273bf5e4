"""Max/Average pooling 1D-3D and their global forms.

References are written independently of torch's pooling kernels: windows are
cut with `Tensor.unfold` from the input padded with -inf (max) or zeros plus a
count of real elements (average), so Keras's "same" semantics are checked
element by element. Keras parity itself lives in `tests/parity/`.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import plait
from plait import layers as L
from tests.layers.cases import LayerCase
from tests.layers.test_layer_cases import check_layer

CF = "channels_first"


def _tup(v, rank):
    return (v,) * rank if isinstance(v, int) else tuple(v)


def _nc(x, data_format):
    """Channels-last -> a contiguous (batch, channels, *spatial) tensor."""
    return x if data_format == CF else x.movedim(-1, 1).contiguous()


def _back(y, data_format):
    return y if data_format == CF else y.movedim(1, -1)


def _same(n, k, s):
    """TF's SAME padding of one axis: ceil(n / s) outputs, odd element last."""
    total = max(0, (math.ceil(n / s) - 1) * s + k - n)
    return total // 2, total - total // 2


def _pad(x, pairs, value=0.0):
    flat = [v for lo, hi in reversed(pairs) for v in (lo, hi)]
    return F.pad(x, flat, value=value)


def _windows(xt, kernel, strides):
    """(batch, ch, *spatial) -> (batch, ch, *out, *kernel) via unfold."""
    for axis, (k, s) in enumerate(zip(kernel, strides)):
        xt = xt.unfold(2 + axis, k, s)
    return xt


def pool_ref(rank, mode, pool, strides=None, padding="valid", df=None):
    def ref(x, w):
        xt = _nc(x, df)
        k = _tup(pool, rank)
        s = k if strides is None else _tup(strides, rank)
        pairs = [(0, 0)] * rank
        if padding == "same":
            pairs = [_same(n, ki, si) for n, ki, si in zip(xt.shape[2:], k, s)]
        dims = tuple(range(-rank, 0))
        if mode == "max":
            y = _windows(_pad(xt, pairs, float("-inf")), k, s).amax(dims)
        else:
            sums = _windows(_pad(xt, pairs), k, s).sum(dims)
            ones = _pad(torch.ones_like(xt), pairs)
            y = sums / _windows(ones, k, s).sum(dims)
        return _back(y, df)

    return ref


def global_ref(rank, mode, df=None, keepdims=False):
    def ref(x, w):
        dims = tuple(range(2, 2 + rank)) if df == CF else tuple(range(1, 1 + rank))
        fn = torch.amax if mode == "max" else torch.mean
        return fn(x, dims, keepdim=keepdims)

    return ref


def _case(id_, cls, kwargs, in_shape, out_shape, ref):
    return LayerCase(id_, cls, kwargs, in_shape, out_shape, 0, ref)


POOL_CASES = [
    _case("maxpool1d", L.MaxPooling1D, {}, (7, 3), (None, 3, 3), pool_ref(1, "max", 2)),
    _case("maxpool1d_same_s1_cf", L.MaxPooling1D, {"pool_size": 2, "strides": 1,
                                                   "padding": "same", "data_format": CF},
          (3, 5), (None, 3, 5), pool_ref(1, "max", 2, 1, "same", CF)),
    _case("maxpool2d_guide", L.MaxPooling2D, {"pool_size": (3, 3), "strides": (1, 1),
                                              "padding": "same"}, (5, 6, 2),
          (None, 5, 6, 2), pool_ref(2, "max", 3, 1, "same")),
    _case("maxpool2d_same_s2", L.MaxPooling2D, {"pool_size": (2, 3), "strides": 2,
                                                "padding": "same"}, (5, 6, 2),
          (None, 3, 3, 2), pool_ref(2, "max", (2, 3), 2, "same")),
    _case("maxpool2d_overlap", L.MaxPool2D, {"pool_size": 3, "strides": 2}, (7, 6, 2),
          (None, 3, 2, 2), pool_ref(2, "max", 3, 2)),
    _case("maxpool3d_same_cf", L.MaxPooling3D, {"pool_size": 2, "padding": "same",
                                                "data_format": CF}, (2, 3, 4, 5),
          (None, 2, 2, 2, 3), pool_ref(3, "max", 2, None, "same", CF)),
    _case("avgpool1d_same_asym", L.AveragePooling1D, {"pool_size": 3, "strides": 2,
                                                      "padding": "same"}, (6, 2),
          (None, 3, 2), pool_ref(1, "avg", 3, 2, "same")),
    _case("avgpool2d", L.AveragePooling2D, {"pool_size": 2}, (5, 4, 3),
          (None, 2, 2, 3), pool_ref(2, "avg", 2)),
    _case("avgpool2d_same_sym", L.AvgPool2D, {"pool_size": 3, "strides": 1,
                                              "padding": "same"}, (4, 5, 2),
          (None, 4, 5, 2), pool_ref(2, "avg", 3, 1, "same")),
    _case("avgpool2d_same_asym_cf", L.AveragePooling2D, {"pool_size": (2, 3),
                                                         "strides": (2, 2),
                                                         "padding": "same",
                                                         "data_format": CF},
          (2, 5, 6), (None, 2, 3, 3), pool_ref(2, "avg", (2, 3), 2, "same", CF)),
    _case("avgpool3d_same_asym", L.AveragePooling3D, {"pool_size": 2, "strides": 1,
                                                      "padding": "same"},
          (3, 2, 3, 2), (None, 3, 2, 3, 2), pool_ref(3, "avg", 2, 1, "same")),
    _case("gmaxpool1d", L.GlobalMaxPooling1D, {}, (5, 3), (None, 3),
          global_ref(1, "max")),
    _case("gmaxpool2d_keep_cf", L.GlobalMaxPool2D, {"keepdims": True,
                                                    "data_format": CF},
          (3, 4, 5), (None, 3, 1, 1), global_ref(2, "max", CF, True)),
    _case("gmaxpool3d", L.GlobalMaxPooling3D, {}, (2, 3, 2, 4), (None, 4),
          global_ref(3, "max")),
    _case("gavgpool1d_keep", L.GlobalAveragePooling1D, {"keepdims": True}, (5, 3),
          (None, 1, 3), global_ref(1, "avg", keepdims=True)),
    _case("gavgpool2d", L.GlobalAveragePooling2D, {}, (4, 5, 3), (None, 3),
          global_ref(2, "avg")),
    _case("gavgpool3d_cf", L.GlobalAvgPool3D, {"data_format": CF}, (3, 2, 2, 2),
          (None, 3), global_ref(3, "avg", CF)),
]  # fmt: skip


@pytest.mark.parametrize("case", POOL_CASES, ids=[c.id for c in POOL_CASES])
def test_pooling_layer_case(case, tmp_path):
    check_layer(case, tmp_path)


def test_average_pooling_same_divides_by_real_elements():
    # Windows [1, 2, 3] and [3, 4, pad]: TF/JAX (and Keras's docs) give 3.5 for
    # the second; Keras's torch backend pads by replicating the edge (3.67).
    x = torch.tensor([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)
    out = L.AveragePooling1D(3, strides=2, padding="same")(x)
    assert out.flatten().tolist() == [2.0, 3.5]


def test_max_pooling_same_ignores_padding_of_negative_inputs():
    x = -torch.arange(1.0, 5.0).reshape(1, 2, 2, 1)
    out = L.MaxPooling2D(2, strides=1, padding="same")(x)
    assert out.flatten().tolist() == [-1.0, -2.0, -3.0, -4.0]


def test_pooling_strides_default_to_pool_size():
    layer = L.MaxPooling2D((2, 3))
    assert layer.strides == (2, 3)
    assert layer.get_config()["strides"] == [2, 3]


def test_pooling_keeps_channels_last_memory():
    x = torch.randn(2, 6, 6, 4)
    y = L.MaxPooling2D(2)(x)
    assert y.is_contiguous()
    y = L.AveragePooling2D(3, strides=2, padding="same")(x)
    assert y.is_contiguous()


def test_pooling_unknown_dims_stay_none():
    layer = L.MaxPooling2D(2, padding="same")
    assert layer(plait.Input(shape=(None, 7, 3))).shape == (None, None, 4, 3)
    x = plait.Input(shape=(None, 3))
    assert L.GlobalAveragePooling1D()(x).shape == (None, 3)


def test_guide_inception_tower():
    x = plait.Input(shape=(16, 16, 3))
    tower = L.MaxPooling2D((3, 3), strides=(1, 1), padding="same")(x)
    tower = L.Conv2D(4, (1, 1), padding="same", activation="relu")(tower)
    assert tower.shape == (None, 16, 16, 4)
    model = plait.Model(x, tower)
    assert model.predict(np.zeros((2, 16, 16, 3), "float32"), verbose=0).shape == (
        2, 16, 16, 4,
    )  # fmt: skip


def test_global_average_pooling_1d_mask_eager():
    x = torch.tensor([[[1.0], [3.0], [8.0]], [[2.0], [4.0], [6.0]]])
    mask = torch.tensor([[True, True, False], [True, True, True]])
    out = L.GlobalAveragePooling1D()(x, mask=mask)
    assert out.flatten().tolist() == [2.0, 4.0]
    out = L.GlobalAveragePooling1D(data_format=CF)(x.transpose(1, 2), mask=mask)
    assert out.flatten().tolist() == [2.0, 4.0]


def test_global_average_pooling_1d_mask_from_embedding_in_model():
    ids = plait.Input(shape=(4,), dtype="int32")
    emb = L.Embedding(10, 2, mask_zero=True, embeddings_initializer="ones")(ids)
    pooled = L.GlobalAveragePooling1D()(emb)
    assert pooled._mask is None  # the steps are reduced away
    scaled = L.Dense(1, use_bias=False, kernel_initializer="ones")(pooled)
    model = plait.Model(ids, scaled)
    data = np.array([[1, 2, 0, 0], [3, 0, 0, 0]], dtype="int32")
    torch.testing.assert_close(
        model.predict(data, verbose=0), np.array([[2.0], [2.0]], dtype="float32")
    )
    with torch.no_grad():
        emb_layer = model.layers[1]
        emb_layer.embeddings[0] = 100.0  # padding rows must not count
    torch.testing.assert_close(
        model.predict(data, verbose=0), np.array([[2.0], [2.0]], dtype="float32")
    )


def test_pooling_wrong_rank_error(fresh_names):
    with pytest.raises(
        ValueError,
        match=r"^MaxPooling2D layer 'max_pooling2d': expected input with 4 dims "
        r"\(batch, rows, cols, channels\), got shape \(None, 5, 3\)\.$",
    ):
        L.MaxPooling2D()(plait.Input(shape=(5, 3)))
    with pytest.raises(ValueError, match=r"expected input with 3 dims \(batch, steps"):
        L.GlobalAveragePooling1D()(torch.zeros(2, 3))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: L.MaxPooling2D(padding="full"),
         r"expected padding in \('valid', 'same'\), got padding='full'"),
        (lambda: L.AveragePooling2D(0), r"expected `pool_size` values to be positive"),
        (lambda: L.MaxPooling1D(2, strides=(1, 1)),
         r"expected `strides` to be an int or a tuple of 1 int"),
        (lambda: L.GlobalMaxPooling2D(data_format="NCHW"),
         r"expected data_format in \('channels_last', 'channels_first'\)"),
    ],
)  # fmt: skip
def test_pooling_rejects_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_pooling_window_larger_than_input():
    with pytest.raises(ValueError, match=r"expected an input large enough"):
        L.MaxPooling2D(4)(plait.Input(shape=(3, 8, 1)))


def test_pooling_pool_size_default_for_average_keras2():
    assert L.AveragePooling2D().pool_size == (2, 2)
    assert L.AvgPool1D is L.AveragePooling1D
    assert L.GlobalMaxPool1D is L.GlobalMaxPooling1D


def test_pooling_matches_torch_module_nchw():
    x = torch.randn(2, 8, 8, 3)
    ref = torch.nn.MaxPool2d(2)(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    torch.testing.assert_close(L.MaxPooling2D()(x), ref)
    ref = torch.nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x.permute(0, 3, 1, 2))
    out = L.AveragePooling2D(3, strides=1, padding="same")(x)
    torch.testing.assert_close(out, ref.permute(0, 2, 3, 1))
