"""Activation functions by Keras name: `"relu"`, `"softmax"`, ... -> callables."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from plait.types import ActivationLike
from plait.utils.registry import Registry

__all__ = [
    "elu",
    "exponential",
    "gelu",
    "get",
    "hard_sigmoid",
    "hard_silu",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "tanh",
]

Activation = Callable[[torch.Tensor], torch.Tensor]
_REGISTRY = Registry("activation")


@_REGISTRY.register()
def linear(x: torch.Tensor) -> torch.Tensor:
    """Identity: returns `x` unchanged."""
    return x


@_REGISTRY.register()
def relu(x: torch.Tensor) -> torch.Tensor:
    """`max(x, 0)`."""
    return torch.relu(x)


@_REGISTRY.register()
def relu6(x: torch.Tensor) -> torch.Tensor:
    """`min(max(x, 0), 6)`."""
    return F.relu6(x)


@_REGISTRY.register()
def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """`1 / (1 + exp(-x))`."""
    return torch.sigmoid(x)


@_REGISTRY.register()
def softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Softmax over `axis` (the last by default)."""
    return torch.softmax(x, dim=axis)


@_REGISTRY.register()
def log_softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Log of the softmax over `axis`, computed stably."""
    return torch.log_softmax(x, dim=axis)


@_REGISTRY.register()
def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent."""
    return torch.tanh(x)


@_REGISTRY.register()
def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """`x` if `x > 0` else `alpha * (exp(x) - 1)`."""
    return F.elu(x, alpha=alpha)


@_REGISTRY.register()
def selu(x: torch.Tensor) -> torch.Tensor:
    """Scaled ELU with the constants of Klambauer et al. 2017."""
    return F.selu(x)


@_REGISTRY.register()
def softplus(x: torch.Tensor) -> torch.Tensor:
    """`log(1 + exp(x))`."""
    return F.softplus(x)


@_REGISTRY.register()
def softsign(x: torch.Tensor) -> torch.Tensor:
    """`x / (1 + |x|)`."""
    return F.softsign(x)


@_REGISTRY.register()
def gelu(x: torch.Tensor, approximate: bool = False) -> torch.Tensor:
    """Gaussian error linear unit; exact (erf) by default, as in Keras 3."""
    return F.gelu(x, approximate="tanh" if approximate else "none")


@_REGISTRY.register("swish")
def silu(x: torch.Tensor) -> torch.Tensor:
    """`x * sigmoid(x)` (also named swish)."""
    return F.silu(x)


swish = silu


@_REGISTRY.register()
def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 3's piecewise-linear sigmoid: `relu6(x + 3) / 6`."""
    return F.hardsigmoid(x)


@_REGISTRY.register("hard_swish")
def hard_silu(x: torch.Tensor) -> torch.Tensor:
    """`x * hard_sigmoid(x)` (also named hard_swish)."""
    return F.hardswish(x)


@_REGISTRY.register()
def exponential(x: torch.Tensor) -> torch.Tensor:
    """`exp(x)`."""
    return torch.exp(x)


@_REGISTRY.register()
def leaky_relu(x: torch.Tensor, negative_slope: float = 0.2) -> torch.Tensor:
    """`x` if `x > 0` else `negative_slope * x`; Keras's default slope is 0.2."""
    return F.leaky_relu(x, negative_slope)


@_REGISTRY.register()
def mish(x: torch.Tensor) -> torch.Tensor:
    """`x * tanh(softplus(x))`."""
    return F.mish(x)


def get(identifier: ActivationLike) -> Activation:
    """Resolve an activation name or callable; `None` is the identity.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
        TypeError: for anything that is neither a str nor a callable.
    """
    if identifier is None:
        return linear
    return _REGISTRY.get(identifier)  # type: ignore[no-any-return]


def serialize(fn: Activation) -> str:
    """The registered name of an activation (`relu` -> `"relu"`).

    Custom callables serialize by their registered name in `plait.saving`.
    """
    name = _REGISTRY.name_of(fn)
    if name is not None:
        return name
    return _REGISTRY.serialize(fn)  # type: ignore[return-value]
