"""Tests for plait.layers.normalization: parity with torch ops and Keras's formulas."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import plait
from plait import layers as L
from tests.layers.cases import LayerCase
from tests.layers.test_layer_cases import check_layer


def _bn_ref(axis=-1, eps=1e-3):
    """Inference BatchNorm; moving statistics are not trained (no gradient)."""

    def ref(x, w):
        shape = [1] * x.dim()
        shape[axis] = -1
        names = ["gamma", "beta"][: len(w) - 2]
        gamma = w[0] if "gamma" in names else torch.ones(())
        beta = w[len(names) - 1] if "beta" in names else torch.zeros(())
        mean, var = w[-2].detach(), w[-1].detach()
        scaled = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)
        return scaled * (gamma.view(shape) if gamma.dim() else gamma) + (
            beta.view(shape) if beta.dim() else beta
        )

    return ref


def _ln_ref(axes, eps=1e-3, center=True, rms=False):
    def ref(x, w):
        var, mean = torch.var_mean(x, dim=axes, correction=0, keepdim=True)
        shape = [x.shape[a] if a in axes else 1 for a in range(x.dim())]
        out = (x if rms else x - mean) / torch.sqrt(var + eps) * w[0].reshape(shape)
        return out + w[1].reshape(shape) if center and not rms else out

    return ref


def _gn_ref(groups, eps=1e-3):
    def ref(x, w):
        n, c = x.shape[0], x.shape[-1]
        g = x.reshape(n, -1, groups, c // groups)  # (n, rest, groups, c/g)
        var, mean = torch.var_mean(g, dim=(1, 3), correction=0, keepdim=True)
        out = ((g - mean) / torch.sqrt(var + eps)).reshape(x.shape)
        return out * w[0] + w[1]

    return ref


def _vec(n):
    return (n,)


NORM_CASES = [
    LayerCase("bn_2d", L.BatchNormalization, {}, (4,), (None, 4), 4, _bn_ref(),
              (_vec(4),) * 4),
    LayerCase("bn_4d", L.BatchNormalization, {"epsilon": 0.01}, (3, 3, 2),
              (None, 3, 3, 2), 4, _bn_ref(eps=0.01), (_vec(2),) * 4),
    LayerCase("bn_axis1", L.BatchNormalization, {"axis": 1}, (3, 4), (None, 3, 4),
              4, _bn_ref(axis=1), (_vec(3),) * 4),
    LayerCase("bn_no_affine", L.BatchNormalization, {"center": False, "scale": False},
              (5, 2), (None, 5, 2), 2, _bn_ref(), (_vec(2),) * 2),
    LayerCase("ln_last", L.LayerNormalization, {}, (3, 4), (None, 3, 4), 2,
              _ln_ref([2]), ((4,), (4,))),
    LayerCase("ln_axes", L.LayerNormalization, {"axis": [1, 2]}, (3, 4),
              (None, 3, 4), 2, _ln_ref([1, 2]), ((3, 4), (3, 4))),
    LayerCase("ln_axis1_nontrailing", L.LayerNormalization, {"axis": 1}, (3, 4),
              (None, 3, 4), 2, _ln_ref([1]), ((3,), (3,))),
    LayerCase("ln_rms_scaling", L.LayerNormalization, {"rms_scaling": True}, (5,),
              (None, 5), 1, _ln_ref([1], rms=True), ((5,),)),
    LayerCase("gn_2d", L.GroupNormalization, {"groups": 2}, (4,), (None, 4), 2,
              _gn_ref(2), ((4,), (4,))),
    LayerCase("gn_4d", L.GroupNormalization, {"groups": 2}, (2, 3, 4),
              (None, 2, 3, 4), 2, _gn_ref(2), ((4,), (4,))),
    LayerCase("gn_instance", L.GroupNormalization, {"groups": -1}, (5, 3),
              (None, 5, 3), 2, _gn_ref(3), ((3,), (3,))),
    LayerCase("unit_norm", L.UnitNormalization, {}, (3, 4), (None, 3, 4), 0,
              lambda x, w: x / torch.linalg.vector_norm(x, dim=-1, keepdim=True)),
    LayerCase("unit_norm_axes", L.UnitNormalization, {"axis": [1, 2]}, (3, 4),
              (None, 3, 4), 0,
              lambda x, w: x / torch.linalg.vector_norm(x, dim=(1, 2), keepdim=True)),
]  # fmt: skip


@pytest.mark.parametrize("case", NORM_CASES, ids=[c.id for c in NORM_CASES])
def test_normalization_layer_case(case, tmp_path):
    check_layer(case, tmp_path)


def _built_bn(shape, **kwargs):
    layer = L.BatchNormalization(**kwargs)
    layer(plait.Input(shape=shape[1:]))
    gen = torch.Generator().manual_seed(1)
    weights = [torch.randn(shape[layer._channel_axis], generator=gen) for _ in range(4)]
    weights[-1] = weights[-1].abs() + 0.5
    layer.set_weights([w.numpy() for w in weights])
    return layer


@pytest.mark.parametrize(
    ("shape", "axis"), [((6, 3), -1), ((2, 4, 3), -1), ((2, 3, 4, 3), -1),
                        ((2, 2, 3, 2, 3), -1), ((2, 3, 4, 5), 1)]
)  # fmt: skip
def test_batchnorm_training_matches_torch_and_keras_update(shape, axis):
    layer = _built_bn(shape, axis=axis, momentum=0.9)
    gamma, beta, mean0, var0 = (torch.tensor(w) for w in layer.get_weights())
    x = torch.randn(shape)
    y = layer(x, training=True)
    # torch's functional kernel on a channels-first copy, batch statistics.
    xc = x.movedim(axis, 1).contiguous()
    want = F.batch_norm(xc, None, None, gamma, beta, training=True, eps=1e-3)
    torch.testing.assert_close(y, want.movedim(1, axis), atol=1e-5, rtol=1e-5)
    # Keras's update: moving * momentum + batch * (1 - momentum), biased variance.
    dims = [d for d in range(x.dim()) if d != axis % x.dim()]
    var, mean = torch.var_mean(x, dim=dims, correction=0)
    _, _, mean1, var1 = (torch.tensor(w) for w in layer.get_weights())
    torch.testing.assert_close(mean1, 0.9 * mean0 + 0.1 * mean, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(var1, 0.9 * var0 + 0.1 * var, atol=1e-6, rtol=1e-6)


def test_batchnorm_training_gradients_match_formula():
    layer = _built_bn((4, 2, 3))
    gamma, beta = (torch.tensor(w, requires_grad=True) for w in layer.get_weights()[:2])
    x = torch.randn(4, 2, 3, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    cot = torch.randn(4, 2, 3)
    (layer(x, training=True) * cot).sum().backward()
    var, mean = torch.var_mean(x_ref, dim=(0, 1), correction=0)
    ref = (x_ref - mean) / torch.sqrt(var + 1e-3) * gamma + beta
    (ref * cot).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(layer.gamma.grad, gamma.grad, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(layer.beta.grad, beta.grad, atol=1e-4, rtol=1e-4)


def test_batchnorm_inference_leaves_moving_statistics():
    layer = _built_bn((4, 3))
    before = layer.get_weights()
    layer(torch.randn(4, 3))
    layer(torch.randn(4, 3), training=False)
    for b, a in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(b, a)


def test_batchnorm_training_none_follows_module_mode():
    layer = _built_bn((4, 3))
    x = torch.randn(4, 3)
    layer.train()
    y = layer(x)
    torch.testing.assert_close(y.mean(0), layer.beta.detach(), atol=1e-5, rtol=1e-5)


def test_batchnorm_momentum_default_is_keras_099():
    layer = L.BatchNormalization()
    x = torch.randn(8, 2) * 3 + 1
    layer(x, training=True)
    torch.testing.assert_close(layer.moving_mean.detach(), 0.01 * x.mean(0))


def test_batchnorm_frozen_runs_in_inference_mode():
    layer = _built_bn((4, 3))
    layer.trainable = False
    before = layer.get_weights()
    x = torch.randn(4, 3)
    y = layer(x, training=True)
    torch.testing.assert_close(y, layer(x, training=False))
    for b, a in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(b, a)
    assert not layer.trainable_weights
    assert len(layer.non_trainable_weights) == 4


def test_batchnorm_weights_in_keras_order():
    layer = L.BatchNormalization()
    layer(torch.randn(2, 3))
    names = [info.name for _, info in layer._weight_entries()]
    assert names == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [p.requires_grad for p in layer.weights] == [True, True, False, False]


def test_batchnorm_masked_statistics_skip_masked_steps():
    layer = L.BatchNormalization(momentum=0.5)
    x = torch.randn(2, 4, 3)
    mask = torch.tensor([[True, True, False, True], [False, True, True, True]])
    y = layer(x, training=True, mask=mask)
    kept = x[mask]  # (6, 3)
    var, mean = torch.var_mean(kept, dim=0, correction=0)
    torch.testing.assert_close(y[mask], (kept - mean) / torch.sqrt(var + 1e-3))
    torch.testing.assert_close(layer.moving_mean.detach(), 0.5 * mean)


def test_batchnorm_one_value_per_channel_gives_beta():
    layer = L.BatchNormalization(beta_initializer="ones")
    y = layer(torch.randn(1, 3), training=True)
    torch.testing.assert_close(y, torch.ones(1, 3))
    torch.testing.assert_close(layer.moving_variance.detach(), torch.full((3,), 0.99))


def test_batchnorm_channels_last_output_is_contiguous():
    layer = L.BatchNormalization()
    x = torch.randn(2, 4, 5, 3)
    for training in (True, False):
        assert layer(x, training=training).is_contiguous()


def test_batchnorm_trains_in_a_model():
    inputs = plait.Input(shape=(4,))
    bn = L.BatchNormalization()
    model = plait.Model(inputs, L.Dense(1)(bn(inputs)))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(8, 4) * 2 + 3
    for _ in range(3):
        opt.zero_grad()
        model(x, training=True).square().mean().backward()
        opt.step()
    assert not torch.equal(bn.moving_mean.detach(), torch.zeros(4))
    predicted = model.predict(x.numpy(), verbose=0)
    np.testing.assert_allclose(predicted, model(x).detach().numpy(), atol=1e-6)


def test_batchnorm_config_round_trips_with_regularizers():
    layer = L.BatchNormalization(
        axis=1, momentum=0.9, gamma_regularizer="l2", beta_constraint="non_neg"
    )
    config = layer.get_config()
    json.dumps(config)
    assert config["gamma_regularizer"] == {"class_name": "L2", "config": {"l2": 0.01}}
    assert config["beta_constraint"] == {"class_name": "NonNeg", "config": {}}
    assert L.BatchNormalization.from_config(config).get_config() == config


def test_batchnorm_accepts_keras2_axis_list():
    assert L.BatchNormalization(axis=[1]).axis == 1


def test_batchnorm_rejects_bad_arguments():
    with pytest.raises(TypeError, match=r"expected `axis` to be an int, got axis='x'"):
        L.BatchNormalization(axis="x")
    with pytest.raises(ValueError, match="expected renorm=False"):
        L.BatchNormalization(renorm=True)


def test_batchnorm_rejects_bad_axis_and_unknown_channels():
    with pytest.raises(ValueError, match=r"expected `axis` in \[-2, 2\).*got axis=3"):
        L.BatchNormalization(axis=3)(plait.Input(shape=(4,)))
    with pytest.raises(ValueError, match=r"expected axis 2 of the input to be known"):
        L.BatchNormalization()(plait.Input(shape=(4, None)))


def test_batchnorm_rejects_other_channel_count_later():
    layer = L.BatchNormalization()
    layer(torch.randn(2, 3))
    with pytest.raises(ValueError, match=r"expected input last axis 3 .*got shape"):
        layer(torch.randn(2, 4))


def test_batchnorm_rejects_bad_mask_rank():
    layer = L.BatchNormalization()
    with pytest.raises(ValueError, match="expected a mask with one dim less"):
        layer(torch.randn(2, 4, 3), training=True, mask=torch.ones(2, 4, 3, dtype=bool))


def test_layernorm_matches_f_layer_norm():
    layer = L.LayerNormalization(axis=[-2, -1], epsilon=1e-5)
    x = torch.randn(2, 3, 4)
    layer(x)
    with torch.no_grad():
        layer.gamma.normal_()
        layer.beta.normal_()
    want = F.layer_norm(x, (3, 4), layer.gamma, layer.beta, 1e-5)
    torch.testing.assert_close(layer(x), want, atol=1e-5, rtol=1e-5)


def test_layernorm_rejects_bad_axis():
    with pytest.raises(
        TypeError, match=r"expected `axis` to be an int or a list of ints"
    ):
        L.LayerNormalization(axis=1.5)
    with pytest.raises(ValueError, match=r"expected `axis` in \[-3, 3\)"):
        L.LayerNormalization(axis=[1, 5])(plait.Input(shape=(2, 3)))


def test_layernorm_ignores_training_and_batch():
    layer = L.LayerNormalization()
    x = torch.randn(3, 5)
    torch.testing.assert_close(layer(x[:1]), layer(x)[:1])


def test_groupnorm_matches_f_group_norm_channels_first():
    layer = L.GroupNormalization(groups=2, axis=1, epsilon=1e-5)
    x = torch.randn(2, 4, 3, 3)
    layer(x)
    with torch.no_grad():
        layer.gamma.normal_()
        layer.beta.normal_()
    want = F.group_norm(x, 2, layer.gamma, layer.beta, 1e-5)
    torch.testing.assert_close(layer(x), want, atol=1e-5, rtol=1e-5)


def test_groupnorm_minus_one_is_instance_norm():
    layer = L.GroupNormalization(groups=-1, epsilon=1e-5)
    x = torch.randn(2, 5, 3)
    want = F.instance_norm(x.transpose(1, 2), eps=1e-5).transpose(1, 2)
    torch.testing.assert_close(layer(x), want, atol=1e-5, rtol=1e-5)
    assert layer.get_config()["groups"] == -1


@pytest.mark.parametrize("groups", [0, -2, 1.5, True])
def test_groupnorm_rejects_bad_groups(groups):
    with pytest.raises(ValueError, match=r"expected `groups` to be a positive int"):
        L.GroupNormalization(groups=groups)


def test_groupnorm_rejects_groups_not_dividing_channels():
    with pytest.raises(ValueError, match=r"expected `groups` to divide the 6 channels"):
        L.GroupNormalization(groups=4)(plait.Input(shape=(6,)))


def test_unit_normalization_zero_input_has_finite_gradient():
    x = torch.zeros(2, 3, requires_grad=True)
    y = L.UnitNormalization()(x)
    y.sum().backward()
    assert torch.equal(y, torch.zeros(2, 3))
    assert torch.isfinite(x.grad).all()


def test_unit_normalization_matches_f_normalize():
    x = torch.randn(2, 3, 4)
    torch.testing.assert_close(L.UnitNormalization(axis=1)(x), F.normalize(x, dim=1))


def test_unit_normalization_rejects_bad_axis():
    with pytest.raises(TypeError, match="expected `axis` to be an int or a list"):
        L.UnitNormalization(axis="last")
    with pytest.raises(ValueError, match=r"expected `axis` in \[-2, 2\).*axis=2"):
        L.UnitNormalization(axis=2)(plait.Input(shape=(3,)))
