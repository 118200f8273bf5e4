"""ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D/3D."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import plait
from plait import layers as L
from tests.layers.cases import LayerCase
from tests.layers.test_layer_cases import check_layer

CF = "channels_first"


def _nc(x, data_format):
    """Channels-last -> a contiguous (batch, channels, *spatial) tensor."""
    return x if data_format == CF else x.movedim(-1, 1).contiguous()


def _back(y, data_format):
    return y if data_format == CF else y.movedim(1, -1)


def _pad(x, pairs, value=0.0):
    flat = [v for lo, hi in reversed(pairs) for v in (lo, hi)]
    return F.pad(x, flat, value=value)


def pad_ref(pairs, df=None):
    return lambda x, w: _back(_pad(_nc(x, df), pairs), df)


def crop_ref(pairs, df=None):
    def ref(x, w):
        xt = _nc(x, df)
        index = [slice(None), slice(None)]
        index += [slice(lo, n - hi) for (lo, hi), n in zip(pairs, xt.shape[2:])]
        return _back(xt[tuple(index)], df)

    return ref


def repeat_ref(sizes, df=None):
    def ref(x, w):
        xt = _nc(x, df)
        for axis, s in enumerate(sizes):
            xt = xt.repeat_interleave(s, dim=2 + axis)
        return _back(xt, df)

    return ref


def bilinear_ref(sizes, df=None):
    def ref(x, w):
        xt = _nc(x, df)
        out = (xt.shape[2] * sizes[0], xt.shape[3] * sizes[1])
        return _back(F.interpolate(xt, out, mode="bilinear", align_corners=False), df)

    return ref


def _case(id_, cls, kwargs, in_shape, out_shape, ref):
    return LayerCase(id_, cls, kwargs, in_shape, out_shape, 0, ref)


RESHAPE_CASES = [
    _case("zeropad1d", L.ZeroPadding1D, {}, (3, 2), (None, 5, 2), pad_ref([(1, 1)])),
    _case("zeropad1d_pair_cf", L.ZeroPadding1D, {"padding": (2, 0), "data_format": CF},
          (2, 3), (None, 2, 5), pad_ref([(2, 0)], CF)),
    _case("zeropad2d_sym", L.ZeroPadding2D, {"padding": (1, 2)}, (3, 2, 2),
          (None, 5, 6, 2), pad_ref([(1, 1), (2, 2)])),
    _case("zeropad2d_pairs", L.ZeroPadding2D, {"padding": ((0, 1), (2, 0))},
          (3, 2, 2), (None, 4, 4, 2), pad_ref([(0, 1), (2, 0)])),
    _case("zeropad3d_cf", L.ZeroPadding3D, {"padding": 1, "data_format": CF},
          (2, 2, 1, 3), (None, 2, 4, 3, 5), pad_ref([(1, 1)] * 3, CF)),
    _case("crop1d", L.Cropping1D, {"cropping": (1, 2)}, (5, 2), (None, 2, 2),
          crop_ref([(1, 2)])),
    _case("crop2d", L.Cropping2D, {"cropping": ((1, 0), (0, 2))}, (4, 5, 2),
          (None, 3, 3, 2), crop_ref([(1, 0), (0, 2)])),
    _case("crop2d_cf", L.Cropping2D, {"cropping": 1, "data_format": CF},
          (2, 4, 5), (None, 2, 2, 3), crop_ref([(1, 1), (1, 1)], CF)),
    _case("crop3d", L.Cropping3D, {"cropping": (1, 0, (0, 1))}, (3, 2, 3, 2),
          (None, 1, 2, 2, 2), crop_ref([(1, 1), (0, 0), (0, 1)])),
    _case("upsample1d", L.UpSampling1D, {"size": 3}, (2, 2), (None, 6, 2),
          repeat_ref((3,))),
    _case("upsample2d", L.UpSampling2D, {"size": (2, 3)}, (2, 2, 2), (None, 4, 6, 2),
          repeat_ref((2, 3))),
    _case("upsample2d_cf", L.UpSampling2D, {"data_format": CF}, (2, 2, 3),
          (None, 2, 4, 6), repeat_ref((2, 2), CF)),
    _case("upsample2d_bilinear", L.UpSampling2D, {"size": 2,
                                                  "interpolation": "bilinear"},
          (3, 2, 2), (None, 6, 4, 2), bilinear_ref((2, 2))),
    _case("upsample2d_bilinear_cf", L.UpSampling2D, {"size": (1, 3), "data_format": CF,
                                                     "interpolation": "bilinear"},
          (2, 3, 2), (None, 2, 3, 6), bilinear_ref((1, 3), CF)),
    _case("upsample3d", L.UpSampling3D, {"size": (1, 2, 2)}, (2, 2, 1, 2),
          (None, 2, 4, 2, 2), repeat_ref((1, 2, 2))),
]  # fmt: skip


@pytest.mark.parametrize("case", RESHAPE_CASES, ids=[c.id for c in RESHAPE_CASES])
def test_reshaping_nd_layer_case(case, tmp_path):
    check_layer(case, tmp_path)


@pytest.mark.parametrize(
    ("layer", "ref"),
    [
        (L.ZeroPadding2D(((0, 1), (2, 0))), pad_ref([(0, 1), (2, 0)])),
        (L.Cropping2D(1), crop_ref([(1, 1), (1, 1)])),
        (L.UpSampling2D((2, 3)), repeat_ref((2, 3))),
    ],
    ids=["zeropad2d", "crop2d", "upsample2d"],
)
def test_reshaping_nd_keeps_int_dtype(layer, ref):
    x = plait.Input(shape=(3, 4, 2), dtype="int32")
    assert layer(x).dtype == torch.int32
    data = torch.randint(-5, 5, (2, 3, 4, 2), dtype=torch.int32)
    out = layer(data)
    assert out.dtype == torch.int32
    assert torch.equal(out, ref(data, []))
    model = plait.Model(x, layer(x))
    np.testing.assert_array_equal(model.predict(data.numpy(), verbose=0), out.numpy())


def test_reshaping_nd_unknown_dims_stay_none():
    x = plait.Input(shape=(None, 4, 2))
    assert L.ZeroPadding2D(1)(x).shape == (None, None, 6, 2)
    assert L.Cropping2D(1)(x).shape == (None, None, 2, 2)
    assert L.UpSampling2D(2)(x).shape == (None, None, 8, 2)


def test_cropping_is_a_view():
    x = torch.randn(2, 5, 5, 3)
    out = L.Cropping2D(1)(x)
    assert out.data_ptr() != x.data_ptr() or out.shape != x.shape
    assert out.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()


def test_upsampling_autoencoder_round_trip_shapes():
    x = plait.Input(shape=(8, 8, 1))
    h = L.Conv2D(4, 3, padding="same")(x)
    h = L.MaxPooling2D()(h)
    h = L.UpSampling2D()(h)
    y = L.Cropping2D(((0, 1), (1, 0)))(L.ZeroPadding2D(((0, 1), (1, 0)))(h))
    model = plait.Model(x, y)
    assert model.output_shape == (None, 8, 8, 4)
    assert model.predict(np.zeros((2, 8, 8, 1), "float32"), verbose=0).shape == (
        2, 8, 8, 4,
    )  # fmt: skip


def test_cropping_too_much_names_layer(fresh_names):
    with pytest.raises(
        ValueError,
        match=r"^Cropping2D layer 'cropping2d': expected cropping \(\(2, 2\), \(0, 0\)\) "
        r"to leave at least one element on each axis, got shape \(None, 4, 5, 1\)\.$",
    ):
        L.Cropping2D((2, 0))(plait.Input(shape=(4, 5, 1)))
    with pytest.raises(ValueError, match=r"Cropping1D layer .* at least one element"):
        L.Cropping1D(3)(torch.zeros(1, 6, 1))


def test_reshaping_nd_wrong_rank_error():
    with pytest.raises(
        ValueError,
        match=r"expected input with 5 dims \(batch, depth, rows, cols, channels\), "
        r"got shape \(None, 4, 4, 1\)",
    ):
        L.UpSampling3D()(plait.Input(shape=(4, 4, 1)))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: L.ZeroPadding2D(-1), r"expected `padding` values >= 0, got padding=-1"),
        (lambda: L.ZeroPadding2D((1, 2, 3)),
         r"expected `padding` to be an int, 2 ints, or 2 pairs \(before, after\)"),
        (lambda: L.ZeroPadding1D((1, 2, 3)),
         r"expected `padding` to be an int or a pair \(before, after\)"),
        (lambda: L.Cropping3D(((1, 2, 3), 0, 0)),
         r"expected `cropping` to be an int, 3 ints, or 3 pairs"),
        (lambda: L.UpSampling2D(interpolation="lanczos3"),
         r"expected interpolation in \('nearest', 'bilinear', 'bicubic'\), "
         r"got interpolation='lanczos3'"),
        (lambda: L.UpSampling1D(0), r"expected `size` values to be positive"),
        (lambda: L.UpSampling3D(data_format="NDHWC"), r"expected data_format in"),
    ],
)  # fmt: skip
def test_reshaping_nd_rejects_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_reshaping_nd_rejects_unknown_kwargs():
    with pytest.raises(TypeError, match=r"unexpected keyword argument"):
        L.Cropping1D(1, data_format=CF)
    with pytest.raises(TypeError, match=r"unexpected keyword argument"):
        L.UpSampling1D(2, interpolation="nearest")


def test_upsampling2d_bicubic_as_keras():
    # Keras 3.15 (torch backend) on the same input: the first output row.
    x = torch.arange(8, dtype=torch.float32).reshape(1, 2, 4, 1)
    out = L.UpSampling2D(2, interpolation="bicubic")(x)
    assert out.shape == (1, 4, 8, 1)
    keras_row = [-0.5273, -0.2305, 0.2461, 0.875, 1.2812, 1.9102, 2.3867, 2.6836]
    np.testing.assert_allclose(out[0, 0, :, 0].numpy(), keras_row, atol=1e-4)
    assert (
        L.UpSampling2D.from_config(
            L.UpSampling2D(2, interpolation="bicubic").get_config()
        ).interpolation
        == "bicubic"
    )
