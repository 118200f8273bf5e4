"""Tests for plait.layers.activation: formulas, masks, PReLU weights, errors."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import plait
from plait import layers as L
from tests.layers.cases import LayerCase
from tests.layers.test_layer_cases import check_layer


def _relu_keras(x, max_value=None, slope=0.0, threshold=0.0):
    """Keras's piecewise definition, written out."""
    out = torch.where(x > threshold, x, torch.zeros_like(x))
    if max_value is not None:
        out = torch.clamp(out, max=max_value)
    return out + slope * torch.clamp(x - threshold, max=0.0)


def _case(id_, cls, kwargs, ref, shape=(3, 4), n_weights=0, weight_shapes=()):
    return LayerCase(id_, cls, kwargs, shape, (None, *shape), n_weights, ref,
                     weight_shapes)  # fmt: skip


ACTIVATION_CASES = [
    _case("relu", L.ReLU, {}, lambda x, w: torch.clamp(x, min=0)),
    _case("relu_max", L.ReLU, {"max_value": 0.5}, lambda x, w: x.clamp(0, 0.5)),
    _case("relu6", L.ReLU, {"max_value": 6}, lambda x, w: x.clamp(0, 6)),
    _case("relu_slope", L.ReLU, {"negative_slope": 0.1},
          lambda x, w: torch.where(x > 0, x, 0.1 * x)),
    _case("relu_all", L.ReLU, {"max_value": 1.0, "negative_slope": 0.2, "threshold": 0.3},
          lambda x, w: _relu_keras(x, 1.0, 0.2, 0.3)),
    _case("relu_threshold", L.ReLU, {"threshold": 0.5},
          lambda x, w: _relu_keras(x, threshold=0.5)),
    _case("leaky_relu", L.LeakyReLU, {}, lambda x, w: torch.where(x > 0, x, 0.3 * x)),
    _case("leaky_relu_alpha", L.LeakyReLU, {"alpha": 0.1},
          lambda x, w: torch.where(x > 0, x, 0.1 * x)),
    _case("elu", L.ELU, {"alpha": 0.5},
          lambda x, w: torch.where(x > 0, x, 0.5 * (torch.exp(x) - 1))),
    _case("softmax", L.Softmax, {}, lambda x, w: torch.exp(x) / torch.exp(x).sum(-1, True)),
    _case("softmax_axis1", L.Softmax, {"axis": 1},
          lambda x, w: torch.exp(x) / torch.exp(x).sum(1, True)),
    _case("softmax_axes", L.Softmax, {"axis": [1, 2]},
          lambda x, w: torch.exp(x) / torch.exp(x).sum((1, 2), True)),
    _case("thresholded_relu", L.ThresholdedReLU, {"theta": 0.5},
          lambda x, w: torch.where(x > 0.5, x, torch.zeros_like(x))),
    _case("prelu", L.PReLU, {"alpha_initializer": "ones"},
          lambda x, w: torch.where(x > 0, x, w[0] * x), n_weights=1,
          weight_shapes=((3, 4),)),
    _case("prelu_shared", L.PReLU, {"shared_axes": [1], "alpha_initializer": "ones"},
          lambda x, w: torch.where(x > 0, x, w[0] * x), n_weights=1,
          weight_shapes=((1, 4),)),
]  # fmt: skip


@pytest.mark.parametrize("case", ACTIVATION_CASES, ids=[c.id for c in ACTIVATION_CASES])
def test_activation_layer_case(case, tmp_path):
    check_layer(case, tmp_path)


def test_activation_layers_match_torch_functional():
    x = torch.randn(4, 5)
    torch.testing.assert_close(L.LeakyReLU(0.2)(x), F.leaky_relu(x, 0.2))
    torch.testing.assert_close(L.ELU()(x), F.elu(x))
    torch.testing.assert_close(L.ReLU(max_value=6.0)(x * 4), F.relu6(x * 4))
    torch.testing.assert_close(L.Softmax()(x), F.softmax(x, -1))


def test_prelu_matches_torch_prelu_per_channel():
    x = torch.randn(2, 3, 3, 4)  # channels last
    layer = L.PReLU(shared_axes=[1, 2])
    layer(x)
    with torch.no_grad():
        layer.alpha.uniform_(-1, 1)
    want = F.prelu(x.permute(0, 3, 1, 2), layer.alpha.reshape(-1)).permute(0, 2, 3, 1)
    torch.testing.assert_close(layer(x), want)


def test_prelu_string_regularizer_and_constraint():
    layer = L.PReLU(
        alpha_initializer="ones", alpha_regularizer="l1", alpha_constraint="non_neg"
    )
    layer(torch.randn(2, 3))
    assert [float(v.detach()) for v in layer.losses] == pytest.approx([0.03])
    config = layer.get_config()
    json.dumps(config)
    assert config["alpha_constraint"] == {"class_name": "NonNeg", "config": {}}
    assert L.PReLU.from_config(config).get_config() == config


def test_prelu_rejects_bad_shared_axes_and_unknown_dims():
    with pytest.raises(ValueError, match=r"expected `shared_axes` in \[1, 3\)"):
        L.PReLU(shared_axes=3)(plait.Input(shape=(2, 3)))
    with pytest.raises(ValueError, match="expected every non-shared axis to be known"):
        L.PReLU()(plait.Input(shape=(None, 3)))
    layer = L.PReLU(shared_axes=[1])
    assert layer(plait.Input(shape=(None, 3))).shape == (None, None, 3)


def test_softmax_mask_zeroes_masked_positions():
    x = torch.randn(2, 3, 4)
    mask = torch.rand(2, 3, 4) > 0.3
    mask[0, 1] = False  # a fully masked row gives zeros, not a uniform row
    y = L.Softmax()(x, mask=mask)
    want = torch.softmax(x.masked_fill(~mask, -1e9), -1) * mask
    torch.testing.assert_close(y, want)
    assert torch.equal(y[0, 1], torch.zeros(4))


def test_softmax_mask_broadcasts_and_accepts_floats():
    x = torch.randn(2, 3, 4)
    keep = torch.tensor([[1.0, 1.0, 0.0, 1.0]])
    y = L.Softmax()(x, mask=keep)
    assert torch.equal(y[..., 2], torch.zeros(2, 3))
    torch.testing.assert_close(y.sum(-1), torch.ones(2, 3))


def test_softmax_rejects_unbroadcastable_mask():
    with pytest.raises(
        ValueError, match=r"expected a mask broadcastable to the inputs"
    ):
        L.Softmax()(torch.randn(2, 3, 4), mask=torch.ones(2, 3, dtype=torch.bool))


def test_softmax_mask_as_a_model_input():
    x, keep = plait.Input(shape=(3, 4)), plait.Input(shape=(3, 4), dtype="bool")
    model = plait.Model([x, keep], L.Softmax()(x, mask=keep))
    data = np.random.default_rng(0).standard_normal((2, 3, 4)).astype("float32")
    mask = np.random.default_rng(1).random((2, 3, 4)) > 0.3
    out = model.predict([data, mask], verbose=0)
    want = L.Softmax()(torch.from_numpy(data), mask=torch.from_numpy(mask))
    np.testing.assert_allclose(out, want.numpy(), atol=1e-6)


def test_softmax_with_embedding_mask_follows_keras_broadcasting():
    # Keras aligns the (batch, steps) mask on the right: it must broadcast.
    ids = plait.Input(shape=(4,), dtype="int32")
    emb = L.Embedding(5, 3, mask_zero=True)(ids)
    with pytest.raises(ValueError, match=r"broadcastable to the inputs \(None, 4, 3\)"):
        L.Softmax()(emb)  # at graph construction


def test_leaky_relu_default_slope_is_keras3():
    assert L.LeakyReLU().negative_slope == 0.3
    assert L.LeakyReLU(alpha=0.2).get_config()["negative_slope"] == 0.2


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: L.ReLU(max_value=-1), r"expected `max_value` to be a float >= 0"),
        (
            lambda: L.ReLU(negative_slope=-0.1),
            r"expected `negative_slope` to be a float",
        ),
        (lambda: L.ReLU(threshold=None), r"expected `threshold` to be a float >= 0"),
        (lambda: L.LeakyReLU(-0.2), r"expected `negative_slope` to be a float >= 0"),
        (lambda: L.ThresholdedReLU(theta=-1), r"expected `theta` to be a float >= 0"),
    ],
)
def test_activation_layers_reject_negative_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_activation_layers_pass_masks_through():
    ids = plait.Input(shape=(3,), dtype="int32")
    x = L.Embedding(4, 2, mask_zero=True)(ids)
    for layer in (L.ReLU(), L.LeakyReLU(), L.ELU(), L.ThresholdedReLU(), L.PReLU()):
        assert layer(x)._mask is not None
