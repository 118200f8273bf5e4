"""Activations by Keras name: registry, values, serialization."""

import math

import pytest
import torch

from plait import activations

X = torch.linspace(-4, 4, 17)

REFERENCES = {
    "linear": lambda x: x,
    "relu": lambda x: torch.clamp(x, min=0),
    "relu6": lambda x: torch.clamp(x, 0, 6),
    "sigmoid": lambda x: 1 / (1 + torch.exp(-x)),
    "softmax": lambda x: torch.exp(x) / torch.exp(x).sum(-1, keepdim=True),
    "log_softmax": lambda x: x - torch.logsumexp(x, -1, keepdim=True),
    "tanh": torch.tanh,
    "elu": lambda x: torch.where(x > 0, x, torch.exp(x) - 1),
    "selu": lambda x: (
        1.0507009873554805
        * torch.where(x > 0, x, 1.6732632423543772 * (torch.exp(x) - 1))
    ),
    "softplus": lambda x: torch.log1p(torch.exp(x)),
    "softsign": lambda x: x / (1 + x.abs()),
    "gelu": lambda x: 0.5 * x * (1 + torch.erf(x / math.sqrt(2))),
    "silu": lambda x: x * torch.sigmoid(x),
    "swish": lambda x: x * torch.sigmoid(x),
    "hard_sigmoid": lambda x: torch.clamp(x / 6 + 0.5, 0, 1),
    "hard_silu": lambda x: x * torch.clamp(x / 6 + 0.5, 0, 1),
    "hard_swish": lambda x: x * torch.clamp(x / 6 + 0.5, 0, 1),
    "exponential": torch.exp,
    "leaky_relu": lambda x: torch.where(x > 0, x, 0.2 * x),
    "mish": lambda x: x * torch.tanh(torch.log1p(torch.exp(x))),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_activations_values(name):
    fn = activations.get(name)
    torch.testing.assert_close(fn(X), REFERENCES[name](X), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_activations_serialize_round_trip(name):
    fn = activations.get(name)
    assert activations.get(activations.serialize(fn)) is fn


def test_activations_swish_is_silu():
    assert activations.serialize(activations.get("swish")) in ("silu", "swish")
    assert activations.get("swish") is activations.get("silu")


def test_activations_softmax_axis():
    x = torch.randn(2, 3, 4)
    torch.testing.assert_close(activations.softmax(x, axis=1), torch.softmax(x, 1))


def test_activations_gelu_approximate():
    torch.testing.assert_close(
        activations.gelu(X, approximate=True),
        torch.nn.functional.gelu(X, approximate="tanh"),
    )


def test_activations_none_is_linear_and_callables_pass_through():
    assert activations.get(None) is activations.linear
    assert activations.get(torch.tanh) is torch.tanh


def test_activations_unknown_name():
    with pytest.raises(
        ValueError,
        match=r"^Unknown activation 'rleu'; expected one of \[.*'relu'.*\]\.$",
    ):
        activations.get("rleu")


def test_activations_wrong_type():
    with pytest.raises(
        TypeError, match=r"^Expected an activation name or callable, got int 3"
    ):
        activations.get(3)


def test_activations_serialize_unregistered_callable():
    with pytest.raises(ValueError, match="cannot serialize activation"):
        activations.serialize(lambda x: x)
