"""Tests for plait.regularizers: Keras 3 values, name resolution, serialization."""

import json

import numpy as np
import pytest
import torch

import plait
from plait import regularizers as R

W = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [-0.3, 0.8, 0.1], [0.0, -0.6, 1.2]]

# Values from Keras 3.15 (torch backend) on W.
KERAS_VALUES = [
    ("l1", R.L1(0.1), 0.9000000357627869),
    ("l2", R.L2(0.2), 2.133000135421753),
    ("l1l2", R.L1L2(0.1, 0.2), 3.0330002307891846),
    ("orthogonal_rows", R.OrthogonalRegularizer(0.5), 0.21750952303409576),
    (
        "orthogonal_columns",
        R.OrthogonalRegularizer(0.5, "columns"),
        0.16668875515460968,
    ),
]


@pytest.mark.parametrize(
    ("reg", "expected"),
    [(r, v) for _, r, v in KERAS_VALUES],
    ids=[i for i, _, _ in KERAS_VALUES],
)
def test_regularizer_matches_keras(reg, expected):
    value = reg(torch.tensor(W))
    assert value.shape == ()
    np.testing.assert_allclose(float(value), expected, rtol=1e-6)


def test_regularizer_formulas_match_numpy():
    w = np.random.default_rng(0).standard_normal((3, 5)).astype("float32")
    t = torch.from_numpy(w)
    np.testing.assert_allclose(float(R.L1(0.3)(t)), 0.3 * np.abs(w).sum(), rtol=1e-6)
    np.testing.assert_allclose(float(R.L2(0.3)(t)), 0.3 * (w**2).sum(), rtol=1e-6)
    both = 0.1 * np.abs(w).sum() + 0.2 * (w**2).sum()
    np.testing.assert_allclose(float(R.L1L2(0.1, 0.2)(t)), both, rtol=1e-6)
    rows = w / np.linalg.norm(w, axis=1, keepdims=True)
    cos = np.abs(rows @ rows.T)
    off = (cos.sum() - np.trace(cos)) / (3 * 2 / 2)
    np.testing.assert_allclose(
        float(R.OrthogonalRegularizer(0.4)(t)), 0.4 * 0.5 * off, rtol=1e-5
    )


def test_regularizer_l2_gradient_is_two_l2_x():
    x = torch.tensor(W, requires_grad=True)
    R.L2(0.25)(x).backward()
    torch.testing.assert_close(x.grad, 0.5 * x.detach())


def test_regularizer_zero_factors_give_zero():
    assert float(R.L1L2()(torch.tensor(W))) == 0.0
    assert float(R.Regularizer()(torch.tensor(W))) == 0.0


def test_regularizer_defaults_follow_keras():
    assert R.L1().l1 == 0.01
    assert R.L2().l2 == 0.01
    assert R.L1(None).l1 == 0.01
    assert R.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert R.l1_l2().get_config() == {"l1": 0.01, "l2": 0.01}
    assert R.l1 is R.L1
    assert R.l2 is R.L2


@pytest.mark.parametrize(
    ("name", "cls", "config"),
    [
        ("l1", R.L1, {"l1": 0.01}),
        ("l2", R.L2, {"l2": 0.01}),
        ("l1_l2", R.L1L2, {"l1": 0.01, "l2": 0.01}),
        ("l1l2", R.L1L2, {"l1": 0.01, "l2": 0.01}),
        ("L2", R.L2, {"l2": 0.01}),
        (
            "orthogonal_regularizer",
            R.OrthogonalRegularizer,
            {"factor": 0.01, "mode": "rows"},
        ),
    ],
)
def test_regularizer_get_by_name(name, cls, config):
    reg = R.get(name)
    assert type(reg) is cls
    assert reg.get_config() == config


def test_regularizer_get_passes_through_and_builds():
    inst = R.L2(0.5)
    assert R.get(inst) is inst
    assert R.get(None) is None
    assert type(R.get(R.L1)) is R.L1

    def fn(x):
        return x.sum()

    assert R.get(fn) is fn
    assert R.get({"class_name": "L1L2", "config": {"l1": 0.5}}).get_config() == {
        "l1": 0.5,
        "l2": 0.0,
    }


def test_regularizer_get_rejects_unknown_name():
    with pytest.raises(
        ValueError, match=r"^Unknown regularizer 'l3'; expected one of \[.*'l2'"
    ):
        R.get("l3")


def test_regularizer_get_rejects_unknown_class_name():
    with pytest.raises(ValueError, match=r"^Unknown regularizer class 'L7'"):
        R.get({"class_name": "L7", "config": {}})


def test_regularizer_get_rejects_other_types():
    with pytest.raises(TypeError, match=r"^Expected a regularizer name, config dict"):
        R.get(3)
    with pytest.raises(TypeError, match=r"^Expected a regularizer name, config dict"):
        R.get(int)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_regularizer_rejects_bad_factor(bad):
    with pytest.raises(
        ValueError, match=r"L2: expected `l2` to be a finite float >= 0"
    ):
        R.L2(bad)


def test_orthogonal_regularizer_rejects_bad_mode_and_rank():
    with pytest.raises(ValueError, match=r"expected `mode` in \('rows', 'columns'\)"):
        R.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(
        ValueError, match=r"expected a 2D weight, got shape \(2, 2, 2\)"
    ):
        R.OrthogonalRegularizer()(torch.ones(2, 2, 2))


@pytest.mark.parametrize("reg", [r for _, r, _ in KERAS_VALUES], ids=lambda r: repr(r))
def test_regularizer_serialize_round_trips(reg):
    data = R.serialize(reg)
    json.dumps(data)
    again = R.get(data)
    assert type(again) is type(reg)
    assert again.get_config() == reg.get_config()


def test_regularizer_serialize_none_registered_and_unknown():
    assert R.serialize(None) is None

    def custom(x):
        return x.sum()

    custom._plait_registered_name = "my_reg"
    assert R.serialize(custom) == "my_reg"
    with pytest.raises(ValueError, match="cannot serialize regularizer"):
        R.serialize(lambda x: x.sum())


def test_regularizer_repr_shows_config():
    assert repr(R.L1L2(l1=0.5)) == "L1L2(l1=0.5, l2=0.0)"


def test_regularizer_strings_reach_layer_losses():
    layer = plait.layers.BatchNormalization(
        gamma_regularizer="l2", beta_regularizer="l1"
    )
    layer(torch.randn(4, 3))
    with torch.no_grad():
        layer.gamma.copy_(torch.tensor([1.0, 2.0, 3.0]))
        layer.beta.copy_(torch.tensor([-1.0, 0.5, 0.0]))
    losses = [float(v.detach()) for v in layer.losses]
    np.testing.assert_allclose(sorted(losses), sorted([0.14, 0.015]), rtol=1e-6)
