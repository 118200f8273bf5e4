"""Tests for plait.constraints: Keras 3 values, resolution, apply_constraints."""

import json

import numpy as np
import pytest
import torch

import plait
from plait import constraints as C
from plait.layers import Layer

W = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [-0.3, 0.8, 0.1], [0.0, -0.6, 1.2]]

# Outputs of Keras 3.15 (torch backend) on W.
KERAS = {
    "max_norm": (
        C.MaxNorm(1.5),
        [
            [0.46602729, -0.99999994, 1.22347105],
            [1.39808190, 0.24999999, -0.45880163],
            [-0.27961639, 0.79999995, 0.06117355],
            [0.0, -0.59999996, 0.73408264],
        ],
    ),
    "max_norm_axis1": (
        C.MaxNorm(1.0, axis=1),
        [
            [0.21821788, -0.43643576, 0.87287152],
            [0.88465166, 0.14744194, -0.44232583],
            [-0.29999998, 0.79999989, 0.09999999],
            [0.0, -0.44721356, 0.89442712],
        ],
    ),
    "unit_norm": (
        C.UnitNorm(),
        [
            [0.31068486, -0.69631058, 0.81564742],
            [0.93205458, 0.17407764, -0.30586776],
            [-0.18641092, 0.55704844, 0.04078237],
            [0.0, -0.41778636, 0.48938847],
        ],
    ),
    "unit_norm_all": (
        C.UnitNorm(axis=[0, 1]),
        [
            [0.15310508, -0.30621016, 0.61242032],
            [0.45931521, 0.07655254, -0.22965761],
            [-0.09186305, 0.24496812, 0.03062101],
            [0.0, -0.18372610, 0.36745220],
        ],
    ),
    "min_max_norm": (
        C.MinMaxNorm(1.0, 2.0, rate=0.5),
        [
            [0.49999997, -0.99999994, 1.81564724],
            [1.49999988, 0.24999999, -0.68086773],
            [-0.29999998, 0.79999995, 0.09078237],
            [0.0, -0.59999996, 1.08938837],
        ],
    ),
    "non_neg": (
        C.NonNeg(),
        [[0.5, 0.0, 2.0], [1.5, 0.25, 0.0], [0.0, 0.8, 0.1], [0.0, 0.0, 1.2]],
    ),
}


@pytest.mark.parametrize("name", sorted(KERAS))
def test_constraint_matches_keras(name):
    constraint, expected = KERAS[name]
    got = constraint(torch.tensor(W))
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-6, rtol=1e-6)


def test_constraint_base_is_identity():
    w = torch.tensor(W)
    assert C.Constraint()(w) is w


def test_max_norm_leaves_small_vectors_alone():
    w = torch.tensor([[0.3], [0.4]])
    torch.testing.assert_close(C.MaxNorm(2.0)(w), w, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("max_norm", C.MaxNorm),
        ("non_neg", C.NonNeg),
        ("unit_norm", C.UnitNorm),
        ("min_max_norm", C.MinMaxNorm),
        ("MaxNorm", C.MaxNorm),
    ],
)
def test_constraint_get_by_name(name, cls):
    assert type(C.get(name)) is cls


def test_constraint_aliases_and_defaults():
    assert C.max_norm is C.MaxNorm
    assert C.non_neg is C.NonNeg
    assert C.unit_norm is C.UnitNorm
    assert C.min_max_norm is C.MinMaxNorm
    assert C.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert C.MinMaxNorm().get_config() == {
        "min_value": 0.0,
        "max_value": 1.0,
        "rate": 1.0,
        "axis": 0,
    }


def test_constraint_get_passes_through_and_builds():
    inst = C.NonNeg()
    assert C.get(inst) is inst
    assert C.get(None) is None
    assert type(C.get(C.UnitNorm)) is C.UnitNorm

    def fn(w):
        return w

    assert C.get(fn) is fn
    built = C.get({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": [0, 1]}})
    assert built.get_config() == {"max_value": 3, "axis": [0, 1]}


def test_constraint_get_rejects_unknown_name():
    with pytest.raises(
        ValueError, match=r"^Unknown constraint 'max'; expected one of \[.*'max_norm'"
    ):
        C.get("max")


def test_constraint_get_rejects_unknown_class_name():
    with pytest.raises(ValueError, match=r"^Unknown constraint class 'Clip'"):
        C.get({"class_name": "Clip"})


def test_constraint_get_rejects_other_types():
    with pytest.raises(TypeError, match=r"^Expected a constraint name, config dict"):
        C.get(1.5)


@pytest.mark.parametrize("name", sorted(KERAS))
def test_constraint_serialize_round_trips(name):
    constraint = KERAS[name][0]
    data = C.serialize(constraint)
    json.dumps(data)
    again = C.get(data)
    assert type(again) is type(constraint)
    assert again.get_config() == constraint.get_config()


def test_constraint_serialize_none_and_unknown():
    assert C.serialize(None) is None
    with pytest.raises(ValueError, match="cannot serialize constraint"):
        C.serialize(lambda w: w)


class _Transposed(Layer):
    """Stores its `(in, out)` kernel transposed, like a torch-layout conv."""

    def build(self, input_shape):
        def swap(t):
            return t.t()

        self.kernel = self.add_weight(
            "kernel",
            (input_shape[-1], 2),
            "ones",
            constraint="max_norm",
            layout=(swap, swap),
        )
        self.built = True

    def call(self, inputs):
        return inputs @ self.kernel.t()


def test_apply_constraints_sees_keras_layout():
    layer = _Transposed()
    layer(torch.ones(1, 8))
    assert tuple(layer.kernel.shape) == (2, 8)  # stored (out, in)
    C.apply_constraints(layer)
    # MaxNorm(2) over Keras axis 0 (the 8 inputs): each unit's norm sqrt(8) -> 2.
    norms = torch.linalg.vector_norm(torch.tensor(layer.get_weights()[0]), dim=0)
    torch.testing.assert_close(norms, torch.full((2,), 2.0), atol=1e-5, rtol=1e-5)


def test_apply_constraints_after_a_step_in_a_model():
    inputs = plait.Input(shape=(4,))
    hidden = plait.layers.Dense(3, kernel_constraint=C.MaxNorm(0.5))(inputs)
    prelu = plait.layers.PReLU(alpha_constraint="non_neg", alpha_initializer="ones")
    model = plait.Model(inputs, prelu(hidden))
    opt = torch.optim.SGD(model.parameters(), lr=10.0)
    (-model(torch.randn(8, 4), training=True)).sum().backward()
    opt.step()
    assert prelu.alpha.min() < 0  # the big step pushed some slopes below 0
    C.apply_constraints(model)
    dense = model.layers[1]
    assert torch.linalg.vector_norm(dense.kernel, dim=0).max() <= 0.5 + 1e-6
    assert prelu.alpha.min() >= 0
    assert dense.kernel.grad is not None
    assert not dense.kernel.grad_fn


def test_apply_constraints_projects_a_shared_weight_once():
    calls = []

    def count(w):
        calls.append(1)
        return w * 0.5

    layer = plait.layers.PReLU(alpha_initializer="ones", alpha_constraint=count)
    inputs = plait.Input(shape=(3,))
    model = plait.Model(inputs, layer(layer(inputs)))
    C.apply_constraints(model)
    assert len(calls) == 1
    torch.testing.assert_close(layer.alpha.detach(), torch.full((3,), 0.5))
