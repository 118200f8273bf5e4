"""Initializers: statistics of each, seeds, names, configs, validation errors."""

import math

import numpy as np
import pytest
import torch

import plait
from plait import initializers as I

SHAPE = (400, 300)  # fan_in 400, fan_out 300


def _std(t):
    return t.double().std().item()


def test_initializers_glorot_uniform_limit_and_std():
    w = I.GlorotUniform()(SHAPE)
    limit = math.sqrt(6 / sum(SHAPE))
    assert w.abs().max().item() <= limit
    assert w.abs().max().item() > 0.98 * limit
    assert _std(w) == pytest.approx(limit / math.sqrt(3), rel=0.02)


def test_initializers_glorot_normal_std():
    w = I.GlorotNormal()(SHAPE)
    assert _std(w) == pytest.approx(math.sqrt(2 / sum(SHAPE)), rel=0.03)


def test_initializers_he_normal_std_and_truncation():
    w = I.HeNormal()(SHAPE)
    std = math.sqrt(2 / SHAPE[0])
    assert _std(w) == pytest.approx(std, rel=0.03)
    # Truncated at two standard deviations of the untruncated normal.
    assert w.abs().max().item() <= 2 * std / 0.87962566103423978 + 1e-6


def test_initializers_he_uniform_limit():
    w = I.HeUniform()(SHAPE)
    assert w.abs().max().item() <= math.sqrt(6 / SHAPE[0])
    assert _std(w) == pytest.approx(math.sqrt(2 / SHAPE[0]), rel=0.02)


@pytest.mark.parametrize(
    ("init", "std"),
    [
        (I.LecunNormal(), math.sqrt(1 / SHAPE[0])),
        (I.LecunUniform(), math.sqrt(1 / SHAPE[0])),
        (I.RandomNormal(stddev=0.1), 0.1),
        (I.RandomUniform(-0.05, 0.05), 0.1 / math.sqrt(12)),
    ],
    ids=["lecun_normal", "lecun_uniform", "random_normal", "random_uniform"],
)
def test_initializers_std(init, std):
    assert _std(init(SHAPE)) == pytest.approx(std, rel=0.03)


def test_initializers_truncated_normal_bounds():
    w = I.TruncatedNormal(mean=1.0, stddev=0.5)(SHAPE)
    assert w.min().item() >= 0.0
    assert w.max().item() <= 2.0
    assert w.double().mean().item() == pytest.approx(1.0, abs=0.01)


def test_truncated_normal_fill_is_the_truncated_distribution():
    g = torch.Generator().manual_seed(0)
    t = I.truncated_normal_(torch.empty(200_000), 0.5, 2.0, g)
    assert t.min().item() >= 0.5 - 4.0
    assert t.max().item() <= 0.5 + 4.0
    assert t.double().mean().item() == pytest.approx(0.5, abs=0.02)
    # A unit normal truncated to [-2, 2] has std 0.8796...
    assert t.double().std().item() == pytest.approx(2.0 * 0.87962566, rel=0.01)
    # Mass near the bounds as the truncated normal has it (not piled on them).
    near = ((t - 0.5).abs() > 3.6).double().mean().item()
    want = 2 * (0.5 * math.erfc(1.8 / math.sqrt(2)) - 0.5 * math.erfc(2 / math.sqrt(2)))
    assert near == pytest.approx(want / 0.9545, rel=0.1)


def test_truncated_normal_fill_is_seeded_and_takes_any_layout():
    draw = lambda: I.truncated_normal_(  # noqa: E731
        torch.empty(3000), 0.0, 1.0, torch.Generator().manual_seed(7)
    )
    assert torch.equal(draw(), draw())
    strided = torch.zeros(40, 50).t()  # not contiguous
    I.truncated_normal_(strided, 0.0, 1.0)
    assert strided.abs().max().item() <= 2.0
    assert (strided != 0).all()
    meta = torch.empty(3, device="meta")
    assert I.truncated_normal_(meta, 0.0, 1.0) is meta


def test_initializers_conv_fans_use_receptive_field():
    w = I.GlorotUniform()((3, 3, 8, 16))  # Keras layout (kh, kw, in, out)
    limit = math.sqrt(6 / (9 * 8 + 9 * 16))
    assert w.abs().max().item() <= limit
    assert w.abs().max().item() > 0.95 * limit


def test_initializers_variance_scaling_modes():
    fan_out = I.VarianceScaling(2.0, "fan_out", "untruncated_normal")(SHAPE)
    assert _std(fan_out) == pytest.approx(math.sqrt(2 / SHAPE[1]), rel=0.03)
    fan_avg = I.VarianceScaling(1.0, "fan_avg", "uniform")(SHAPE)
    assert fan_avg.abs().max().item() <= math.sqrt(3 / 350)


def test_initializers_orthogonal_is_orthogonal():
    w = I.Orthogonal()((6, 4))
    torch.testing.assert_close(w.T @ w, torch.eye(4), atol=1e-5, rtol=0)
    tall = I.Orthogonal(gain=2.0)((4, 6))
    torch.testing.assert_close(tall @ tall.T, 4 * torch.eye(4), atol=1e-5, rtol=0)


def test_initializers_orthogonal_reshapes_higher_rank():
    w = I.Orthogonal()((2, 3, 4))
    flat = w.reshape(6, 4)
    torch.testing.assert_close(flat.T @ flat, torch.eye(4), atol=1e-5, rtol=0)


def test_initializers_constants():
    assert I.Zeros()((2, 2)).sum() == 0
    assert I.Ones()((3,)).tolist() == [1.0, 1.0, 1.0]
    assert I.Constant(0.5)((2,)).tolist() == [0.5, 0.5]
    torch.testing.assert_close(I.Identity(2.0)((2, 3)), 2 * torch.eye(2, 3))


def test_initializers_identity_needs_2d():
    with pytest.raises(ValueError, match="expected a 2-D shape"):
        I.Identity()((2, 2, 2))


@pytest.mark.parametrize(
    "cls",
    [I.GlorotUniform, I.GlorotNormal, I.HeNormal, I.HeUniform, I.LecunNormal,
     I.LecunUniform, I.RandomNormal, I.RandomUniform, I.TruncatedNormal,
     I.Orthogonal, I.VarianceScaling],
)  # fmt: skip
def test_initializers_seed_reproducible(cls):
    a = cls(seed=7)((5, 4))
    torch.manual_seed(123)
    b = cls(seed=7)((5, 4))
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, cls(seed=8)((5, 4)))


def test_initializers_unseeded_follow_global_seed():
    torch.manual_seed(1)
    a = I.GlorotUniform()((3, 3))
    torch.manual_seed(1)
    b = I.GlorotUniform()((3, 3))
    torch.testing.assert_close(a, b)


def test_initializers_dtype():
    assert I.GlorotUniform()((2, 2), dtype=torch.float64).dtype == torch.float64
    assert I.Zeros()((2,), dtype=torch.int32).dtype == torch.int32


@pytest.mark.parametrize(
    ("name", "cls"),
    [("glorot_uniform", I.GlorotUniform), ("he_normal", I.HeNormal),
     ("zeros", I.Zeros), ("orthogonal", I.Orthogonal), ("uniform", I.RandomUniform),
     ("GlorotNormal", I.GlorotNormal)],
)  # fmt: skip
def test_initializers_get_by_name(name, cls):
    assert type(I.get(name)) is cls


def test_initializers_get_class_instance_dict_callable():
    inst = I.HeNormal(seed=3)
    assert I.get(inst) is inst
    assert type(I.get(I.Ones)) is I.Ones
    got = I.get({"class_name": "RandomNormal", "config": {"stddev": 0.2}})
    assert got.stddev == 0.2
    custom = I.get(lambda shape, dtype=None: np.full(shape, 3.0))
    assert custom((2,)).tolist() == [3.0, 3.0]


def test_initializers_serialize_round_trip():
    init = I.VarianceScaling(scale=0.5, mode="fan_out", distribution="uniform", seed=2)
    config = I.serialize(init)
    assert config == {
        "class_name": "VarianceScaling",
        "config": {
            "scale": 0.5,
            "mode": "fan_out",
            "distribution": "uniform",
            "seed": 2,
        },
    }
    again = I.get(config)
    torch.testing.assert_close(again((3, 3)), init((3, 3)))


def test_initializers_get_errors():
    with pytest.raises(
        ValueError,
        match=r"^Unknown initializer 'glorot'; expected one of \[.*'glorot_uniform'",
    ):
        I.get("glorot")
    with pytest.raises(ValueError, match=r"^Unknown initializer class 'Nope'"):
        I.get({"class_name": "Nope"})
    with pytest.raises(
        TypeError,
        match=r"^Expected an initializer name, config dict, class or callable",
    ):
        I.get(3)
    with pytest.raises(TypeError, match=r"got NoneType None\.$"):
        I.get(None)


def test_initializers_variance_scaling_validation():
    with pytest.raises(ValueError, match=r"expected scale > 0, got scale=0"):
        I.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match=r"expected mode in .*got mode='fan'"):
        I.VarianceScaling(mode="fan")
    with pytest.raises(
        ValueError, match=r"expected distribution in .*got distribution='gauss'"
    ):
        I.VarianceScaling(distribution="gauss")


def test_initializers_dense_defaults_are_keras():
    from plait.layers import Dense

    d = Dense(3)
    assert type(d.kernel_initializer) is I.GlorotUniform
    assert type(d.bias_initializer) is I.Zeros


def test_initializers_serialize_only_built_in_classes():
    class Mine(I.Initializer):
        _plait_registered_name = "Custom>Mine"

    with pytest.raises(ValueError, match=r"^cannot serialize initializer .*Mine"):
        I.serialize(Mine())
    with pytest.raises(ValueError, match=r"^cannot serialize initializer"):
        I.serialize(I.get(lambda shape, dtype=None: torch.zeros(shape)))


def test_constant_takes_an_array_broadcast_to_the_shape():
    # keras.io's PointNet: bias_initializer=Constant(np.eye(3).flatten())
    init = plait.initializers.Constant(np.eye(2).flatten())
    dense = plait.layers.Dense(4, bias_initializer=init)
    dense.build((None, 3))
    np.testing.assert_array_equal(dense.bias.numpy(), [1.0, 0.0, 0.0, 1.0])
    assert init((3, 4)).shape == (3, 4)
    again = plait.initializers.Constant.from_config(init.get_config())
    np.testing.assert_array_equal(again((4,)).numpy(), [1.0, 0.0, 0.0, 1.0])
    with pytest.raises(
        ValueError, match=r"shape \(4,\) cannot fill a weight of shape \(3,\)"
    ):
        init((3,))


def test_keras_lower_case_names_are_the_classes():
    assert plait.initializers.glorot_uniform is I.GlorotUniform
    assert plait.initializers.truncated_normal is I.TruncatedNormal
    torch.testing.assert_close(
        plait.initializers.he_normal(seed=3)((4, 5)), I.HeNormal(seed=3)((4, 5))
    )
