"""Optimizers: Keras's names, arguments and defaults on top of `torch.optim`.

Each class (here and in `plait.optimizers.adaptive`) maps a Keras optimizer to the closest `torch.optim` class (see
`plait.optimizers.base.Optimizer` for what `build`/`step` add). RMSprop, whose
epsilon torch places differently, runs on plait's own `KerasRMSprop`
(`plait.optimizers.keras_rmsprop`); Adam and AdamW reach Keras's epsilon by setting torch's
per step. Where a residual difference remains, the class docstring says how
large it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from plait.optimizers import schedules
from plait.optimizers.adaptive import (
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Lion,
    Nadam,
)
from plait.optimizers.base import LearningRate, Optimizer, keras_init
from plait.optimizers.keras_rmsprop import KerasRMSprop
from plait.optimizers.schedules import (
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    PolynomialDecay,
)
from plait.optimizers.table import _TABLE
from plait.utils.registry import Registry

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "KerasRMSprop",
    "LearningRate",
    "LearningRateSchedule",
    "Lion",
    "Nadam",
    "Optimizer",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "RMSprop",
    "TorchOptimizer",
    "get",
    "schedules",
    "serialize",
]


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum: `torch.optim.SGD`.

    Keras keeps the velocity with the learning rate inside
    (`v = momentum * v - lr * g; w += v`); torch keeps it without
    (`b = momentum * b + g; w -= lr * b`). The two agree exactly while the
    learning rate is constant; under a schedule, Keras's velocity still carries
    the older rates.

    Args:
        learning_rate: Step size (or a schedule). Keras's default 0.01.
        momentum: In [0, 1].
        nesterov: Whether to use Nesterov momentum.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: As for
            `Optimizer`.

    Example:
        >>> SGD(momentum=0.9).get_config()["momentum"]
        0.9
    """

    _spec = _TABLE["SGD"]
    momentum: float
    nesterov: bool

    __init__ = keras_init(0.01, momentum=0.0, nesterov=False)

    def _torch_kwargs(self) -> dict[str, Any]:
        # torch rejects nesterov without momentum; Keras ignores it then.
        nesterov = self.nesterov and self.momentum > 0
        return {**super()._torch_kwargs(), "nesterov": nesterov}


class RMSprop(Optimizer):
    """RMSprop exactly as Keras 3 computes it (rho 0.9, epsilon 1e-7).

    Keras divides by `sqrt(v + epsilon)` (centered: `sqrt(v - mean_g**2 +
    epsilon)`); `torch.optim.RMSprop` divides by `sqrt(v) + epsilon`, a step up
    to 30x Keras's once `g**2` nears epsilon (|g| around 1e-4, common for
    embeddings and recurrent layers). So plait builds
    `keras_rmsprop.KerasRMSprop`, which does Keras's arithmetic with the
    same multi-tensor kernels as `torch.optim.RMSprop(foreach=True)` and as
    fast (`bench/optimizers.py`). Its steps match Keras 3.15.1's bit for bit
    on CPU, in float32 and float64, for gradients from 1e-5 to 1
    (`tests/optimizers/test_keras_rmsprop.py`).

    Args:
        learning_rate: Step size (or a schedule).
        rho: Decay of the moving average of squared gradients, in [0, 1].
        momentum: In [0, 1].
        epsilon: Added for numerical stability.
        centered: Whether to normalise by the centered second moment.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: As for
            `Optimizer`.

    Example:
        >>> RMSprop().get_config()["rho"]
        0.9
    """

    _spec = _TABLE["RMSprop"]
    rho: float
    momentum: float
    epsilon: float
    centered: bool

    __init__ = keras_init(0.001, rho=0.9, momentum=0.0, epsilon=1e-07, centered=False)


class TorchOptimizer(Optimizer):
    """Wraps an existing `torch.optim.Optimizer` so the trainer can drive it.

    `build` keeps the optimizer's own parameters; `learning_rate` reads the
    first parameter group and sets all groups; clipping arguments still apply.

    Args:
        optimizer: The torch optimizer, already given its parameters.
        clipnorm, clipvalue, global_clipnorm: As for `Optimizer`.
        name: Defaults to the torch class name in lower case.

    Example:
        >>> w = torch.nn.Parameter(torch.ones(1))
        >>> opt = get(torch.optim.SGD([w], lr=0.5))
        >>> opt.learning_rate
        0.5
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
    ) -> None:
        name = name or type(optimizer).__name__.lower()
        lr = float(optimizer.param_groups[0].get("lr", 0.0))
        super().__init__(lr, None, clipnorm, clipvalue, global_clipnorm, name)
        self.torch_optimizer = optimizer
        self._params = [p for group in optimizer.param_groups for p in group["params"]]
        self.built = True

    def build(self, params: Iterable[torch.nn.Parameter]) -> None:
        """Does nothing: the wrapped optimizer already has its parameters."""

    def get_config(self) -> dict[str, Any]:
        """Not supported: a torch optimizer is not rebuilt from a config."""
        raise NotImplementedError(
            f"TorchOptimizer '{self.name}': a wrapped torch.optim optimizer has no "
            "Keras config; save its state_dict() instead."
        )


_REGISTRY = Registry("optimizer", Optimizer, any_subclass=True, ignore_case=True)
for _cls in (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Lion):
    _REGISTRY.add(_cls)


def get(identifier: object) -> Optimizer:
    """Resolves an optimizer identifier.

    Args:
        identifier: A name (`"rmsprop"`, `"Adam"`, ...; case-insensitive, with
            Keras's defaults), a plait `Optimizer` (returned as is), a
            `{"class_name", "config"}` dict, or a `torch.optim.Optimizer`
            instance (wrapped in `TorchOptimizer`).

    Returns:
        An `Optimizer`.

    Raises:
        ValueError: For an unknown name; the message lists the valid ones.
        TypeError: For anything else.

    Example:
        >>> get("rmsprop").get_config()["learning_rate"]
        0.001
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, torch.optim.Optimizer):
        return TorchOptimizer(identifier)
    if isinstance(identifier, (str, dict)):
        return _REGISTRY.get(identifier)  # type: ignore[no-any-return]
    raise TypeError(
        "Expected an optimizer name, plait Optimizer, config dict or "
        f"torch.optim.Optimizer, got {type(identifier).__name__} {identifier!r}."
    )


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """`{"class_name": ..., "config": {...}}` of an optimizer (no state).

    Example:
        >>> serialize(Adam())["class_name"]
        'Adam'
    """
    return _REGISTRY.serialize(optimizer)  # type: ignore[return-value]
