"""Activation functions by Keras name: `"relu"`, `"softmax"`, ... -> callables."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from plait.types import ActivationLike

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


def linear(x: torch.Tensor) -> torch.Tensor:
    """Identity: returns `x` unchanged."""
    return x


def relu(x: torch.Tensor) -> torch.Tensor:
    """`max(x, 0)`."""
    return torch.relu(x)


def relu6(x: torch.Tensor) -> torch.Tensor:
    """`min(max(x, 0), 6)`."""
    return F.relu6(x)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """`1 / (1 + exp(-x))`."""
    return torch.sigmoid(x)


def softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Softmax over `axis` (the last by default)."""
    return torch.softmax(x, dim=axis)


def log_softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Log of the softmax over `axis`, computed stably."""
    return torch.log_softmax(x, dim=axis)


def tanh(x: torch.Tensor) -> torch.Tensor:
    """Hyperbolic tangent."""
    return torch.tanh(x)


def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """`x` if `x > 0` else `alpha * (exp(x) - 1)`."""
    return F.elu(x, alpha=alpha)


def selu(x: torch.Tensor) -> torch.Tensor:
    """Scaled ELU with the constants of Klambauer et al. 2017."""
    return F.selu(x)


def softplus(x: torch.Tensor) -> torch.Tensor:
    """`log(1 + exp(x))`."""
    return F.softplus(x)


def softsign(x: torch.Tensor) -> torch.Tensor:
    """`x / (1 + |x|)`."""
    return F.softsign(x)


def gelu(x: torch.Tensor, approximate: bool = False) -> torch.Tensor:
    """Gaussian error linear unit; exact (erf) by default, as in Keras 3."""
    return F.gelu(x, approximate="tanh" if approximate else "none")


def silu(x: torch.Tensor) -> torch.Tensor:
    """`x * sigmoid(x)` (also named swish)."""
    return F.silu(x)


swish = silu


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 3's piecewise-linear sigmoid: `relu6(x + 3) / 6`."""
    return F.hardsigmoid(x)


def hard_silu(x: torch.Tensor) -> torch.Tensor:
    """`x * hard_sigmoid(x)` (also named hard_swish)."""
    return F.hardswish(x)


def exponential(x: torch.Tensor) -> torch.Tensor:
    """`exp(x)`."""
    return torch.exp(x)


def leaky_relu(x: torch.Tensor, negative_slope: float = 0.2) -> torch.Tensor:
    """`x` if `x > 0` else `negative_slope * x`; Keras's default slope is 0.2."""
    return F.leaky_relu(x, negative_slope)


def mish(x: torch.Tensor) -> torch.Tensor:
    """`x * tanh(softplus(x))`."""
    return F.mish(x)


_REGISTRY: dict[str, Activation] = {
    "linear": linear,
    "relu": relu,
    "relu6": relu6,
    "sigmoid": sigmoid,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "tanh": tanh,
    "elu": elu,
    "selu": selu,
    "softplus": softplus,
    "softsign": softsign,
    "gelu": gelu,
    "silu": silu,
    "swish": silu,
    "hard_sigmoid": hard_sigmoid,
    "hard_silu": hard_silu,
    "hard_swish": hard_silu,
    "exponential": exponential,
    "leaky_relu": leaky_relu,
    "mish": mish,
}
_NAMES = {fn: name for name, fn in reversed(list(_REGISTRY.items()))}


def get(identifier: ActivationLike) -> Activation:
    """Resolve an activation name or callable; `None` is the identity.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
        TypeError: for anything that is neither a str nor a callable.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _REGISTRY.get(identifier)
        if fn is None:
            raise ValueError(
                f"expected an activation name in {sorted(_REGISTRY)}, "
                f"got activation={identifier!r}."
            )
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(
        f"expected an activation name or callable, got {type(identifier).__name__} "
        f"{identifier!r}."
    )


def serialize(fn: Activation) -> str:
    """The registered name of an activation (`relu` -> `"relu"`).

    Custom callables serialize by their registered name in `plait.saving`.
    """
    name = _NAMES.get(fn)
    if name is not None:
        return name
    from_registry = getattr(fn, "_plait_registered_name", None)
    if isinstance(from_registry, str):
        return from_registry
    raise ValueError(
        f"cannot serialize activation {fn!r}: it is neither a built-in activation "
        "nor a function registered with plait.saving.register_serializable()."
    )
