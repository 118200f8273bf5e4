"""Tests for plait.layers.regularization: identity in inference, noise in training."""

import math

import pytest
import torch

import plait
from plait import layers as L
from tests.layers.cases import LayerCase
from tests.layers.test_layer_cases import check_layer


def _identity(id_, cls, kwargs, shape):
    return LayerCase(id_, cls, kwargs, shape, (None, *shape), 0, lambda x, w: x)


REGULARIZATION_CASES = [
    _identity("spatial_dropout1d", L.SpatialDropout1D, {"rate": 0.5}, (3, 4)),
    _identity("spatial_dropout2d", L.SpatialDropout2D, {"rate": 0.5}, (2, 3, 4)),
    _identity(
        "spatial_dropout2d_cf",
        L.SpatialDropout2D,
        {"rate": 0.5, "data_format": "channels_first"},
        (2, 3, 4),
    ),
    _identity("spatial_dropout3d", L.SpatialDropout3D, {"rate": 0.2}, (2, 2, 2, 3)),
    _identity("gaussian_noise", L.GaussianNoise, {"stddev": 0.3}, (3, 4)),
    _identity("gaussian_dropout", L.GaussianDropout, {"rate": 0.3}, (3, 4)),
    _identity("alpha_dropout", L.AlphaDropout, {"rate": 0.3}, (3, 4)),
    _identity(
        "alpha_dropout_noise_shape",
        L.AlphaDropout,
        {"rate": 0.3, "noise_shape": [None, 1, None]},
        (3, 4),
    ),
    _identity("activity_regularization", L.ActivityRegularization, {"l1": 0.1}, (4,)),
]


@pytest.mark.parametrize(
    "case", REGULARIZATION_CASES, ids=[c.id for c in REGULARIZATION_CASES]
)
def test_regularization_layer_case(case, tmp_path):
    check_layer(case, tmp_path)


def _ratios(layer, x):
    return layer(x, training=True) / x


def test_spatial_dropout1d_drops_whole_channels():
    x = torch.rand(64, 5, 6) + 0.5
    ratios = _ratios(L.SpatialDropout1D(0.5), x)
    # Every (sample, channel) is either dropped at all steps or scaled by 2.
    torch.testing.assert_close(ratios, ratios[:, :1].expand_as(ratios))
    assert set(torch.unique(ratios.round(decimals=5)).tolist()) == {0.0, 2.0}


@pytest.mark.parametrize(
    ("cls", "shape", "data_format", "spatial"),
    [
        (L.SpatialDropout2D, (32, 3, 3, 4), None, (1, 2)),
        (L.SpatialDropout2D, (32, 4, 3, 3), "channels_first", (2, 3)),
        (L.SpatialDropout3D, (32, 2, 2, 2, 4), None, (1, 2, 3)),
        (L.SpatialDropout3D, (32, 4, 2, 2, 2), "channels_first", (2, 3, 4)),
    ],
)
def test_spatial_dropout_nd_drops_whole_feature_maps(cls, shape, data_format, spatial):
    x = torch.rand(shape) + 0.5
    ratios = _ratios(cls(0.25, data_format=data_format), x)
    first = ratios
    for axis in spatial:
        first = first.narrow(axis, 0, 1)
    torch.testing.assert_close(ratios, first.expand_as(ratios))
    values = torch.unique(ratios.round(decimals=4)).tolist()
    assert values == pytest.approx([0.0, 1.3333])


def test_gaussian_noise_adds_noise_of_stddev():
    x = torch.zeros(200_000)
    noise = L.GaussianNoise(0.5)(x, training=True)
    assert abs(float(noise.mean())) < 0.01
    assert float(noise.std()) == pytest.approx(0.5, rel=0.02)


def test_gaussian_dropout_multiplies_by_noise_of_mean_one():
    rate = 0.2
    y = L.GaussianDropout(rate)(torch.ones(200_000), training=True)
    assert float(y.mean()) == pytest.approx(1.0, abs=0.01)
    assert float(y.std()) == pytest.approx(math.sqrt(rate / (1 - rate)), rel=0.02)


def test_alpha_dropout_keeps_selu_mean_and_variance():
    x = torch.randn(400_000)
    y = L.AlphaDropout(0.2)(x, training=True)
    assert float(y.mean()) == pytest.approx(0.0, abs=0.01)
    assert float(y.var()) == pytest.approx(1.0, abs=0.02)


def test_alpha_dropout_matches_keras_affine_formula():
    rate = 0.3
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
    b = -a * alpha_p * rate
    x = torch.randn(1000)
    y = L.AlphaDropout(rate)(x, training=True)
    kept = torch.isclose(y, a * x + b, atol=1e-6)
    dropped = torch.isclose(y, torch.full_like(y, a * alpha_p + b), atol=1e-6)
    assert torch.all(kept | dropped)
    assert 0.2 < float(dropped.float().mean()) < 0.4


def test_alpha_dropout_noise_shape_broadcasts():
    layer = L.AlphaDropout(0.5, noise_shape=(None, 1))
    y = layer(torch.zeros(50, 6), training=True)
    assert torch.equal(y, y[:, :1].expand_as(y))


def test_noise_layers_follow_training_flag_in_a_model():
    inputs = plait.Input(shape=(8,))
    model = plait.Model(inputs, L.GaussianNoise(1.0)(L.SpatialDropout1D(0.5)(
        L.Reshape((2, 4))(inputs))))  # fmt: skip
    x = torch.ones(4, 8)
    assert torch.equal(model(x), x.reshape(4, 2, 4))
    assert not torch.equal(model(x, training=True), x.reshape(4, 2, 4))


def test_activity_regularization_adds_penalty_per_sample():
    layer = L.ActivityRegularization(l1=0.1, l2=0.01)
    x = torch.tensor([[1.0, -2.0], [3.0, 0.0]])
    assert torch.equal(layer(x), x)
    (loss,) = layer.losses
    expected = (0.1 * 6.0 + 0.01 * 14.0) / 2  # divided by the batch size
    assert float(loss) == pytest.approx(expected)


def test_activity_regularization_losses_in_a_model():
    inputs = plait.Input(shape=(3,))
    dense = L.Dense(2, kernel_initializer="ones")
    model = plait.Model(inputs, L.ActivityRegularization(l2=0.5)(dense(inputs)))
    model._clear_losses()
    out = model(torch.ones(4, 3))
    (loss,) = model.losses
    want = 0.5 * float(out.detach().square().sum()) / 4
    assert float(loss.detach()) == pytest.approx(want)
    assert L.ActivityRegularization(l1=0.2).get_config()["l1"] == 0.2


@pytest.mark.parametrize(
    "make",
    [
        lambda: L.SpatialDropout1D(1.0),
        lambda: L.SpatialDropout2D(-0.1),
        lambda: L.GaussianDropout(1.5),
        lambda: L.AlphaDropout("0.2"),
    ],
)
def test_dropout_layers_reject_bad_rate(make):
    with pytest.raises(ValueError, match=r"expected `rate` in \[0, 1\)"):
        make()


def test_gaussian_noise_rejects_negative_stddev():
    with pytest.raises(ValueError, match=r"expected `stddev` to be a float >= 0"):
        L.GaussianNoise(-1.0)


def test_activity_regularization_rejects_negative_factor():
    with pytest.raises(ValueError, match=r"L1L2: expected `l1` to be a finite float"):
        L.ActivityRegularization(l1=-1.0)


def test_spatial_dropout_rejects_bad_data_format_and_rank():
    with pytest.raises(ValueError, match=r"expected data_format in \('channels_last'"):
        L.SpatialDropout2D(0.1, data_format="NHWC")
    with pytest.raises(ValueError, match=r"expected input with 4 dims"):
        L.SpatialDropout2D(0.1)(plait.Input(shape=(3, 4)))
