"""Optimizers: Keras's names, arguments and defaults on top of `torch.optim`.

Each class maps a Keras optimizer to the closest `torch.optim` class (see
`optimizers_base.Optimizer` for what `build`/`step` add). RMSprop, whose
epsilon torch places differently, runs on plait's own `KerasRMSprop`
(`optimizers_keras`); Adam and AdamW reach Keras's epsilon by setting torch's
per step. Where a residual difference remains, the class docstring says how
large it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch

from plait.training import schedules as schedules
from plait.training.optimizers_base import LearningRate, Optimizer, _check_range
from plait.training.optimizers_keras import KerasRMSprop
from plait.training.schedules import (
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    PolynomialDecay,
)

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
        weight_decay: Decoupled weight decay (see `Optimizer`).
        clipnorm: Per-tensor gradient norm clip (see `Optimizer`).
        clipvalue: Per-element gradient clip (see `Optimizer`).
        global_clipnorm: Global gradient norm clip (see `Optimizer`).
        name: Defaults to the class name in lower case.

    Example:
        >>> SGD(momentum=0.9).get_config()["momentum"]
        0.9
    """

    _torch_name = "SGD"
    _fused_devices = frozenset({"cpu", "cuda"})

    def __init__(
        self,
        learning_rate: LearningRate = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm,
            clipvalue,
            global_clipnorm,
            name,
            **kwargs,
        )
        _check_range("SGD", "momentum", momentum, 0.0, 1.0)
        self.momentum, self.nesterov = momentum, nesterov

    def _torch_kwargs(self) -> dict[str, Any]:
        # torch rejects nesterov without momentum; Keras ignores it then.
        return {
            "momentum": self.momentum,
            "nesterov": self.nesterov and self.momentum > 0,
        }

    def _hyperparameters(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop exactly as Keras 3 computes it (rho 0.9, epsilon 1e-7).

    Keras divides by `sqrt(v + epsilon)` (centered: `sqrt(v - mean_g**2 +
    epsilon)`); `torch.optim.RMSprop` divides by `sqrt(v) + epsilon`, a step up
    to 30x Keras's once `g**2` nears epsilon (|g| around 1e-4, common for
    embeddings and recurrent layers). So plait builds
    `optimizers_keras.KerasRMSprop`, which does Keras's arithmetic with the
    same multi-tensor kernels as `torch.optim.RMSprop(foreach=True)` and as
    fast (`bench/optimizers.py`). Its steps match Keras 3.15.1's bit for bit
    on CPU, in float32 and float64, for gradients from 1e-5 to 1
    (`tests/training/test_optimizers_keras.py`).

    Args:
        learning_rate: Step size (or a schedule).
        rho: Decay of the moving average of squared gradients, in [0, 1].
        momentum: In [0, 1].
        epsilon: Added for numerical stability.
        centered: Whether to normalise by the centered second moment.
        weight_decay: Decoupled weight decay (see `Optimizer`).
        clipnorm: Per-tensor gradient norm clip (see `Optimizer`).
        clipvalue: Per-element gradient clip (see `Optimizer`).
        global_clipnorm: Global gradient norm clip (see `Optimizer`).
        name: Defaults to the class name in lower case.

    Example:
        >>> RMSprop().get_config()["rho"]
        0.9
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-07,
        centered: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm,
            clipvalue,
            global_clipnorm,
            name,
            **kwargs,
        )
        for key, value in (("rho", rho), ("momentum", momentum)):
            _check_range("RMSprop", key, value, 0.0, 1.0)
        _check_range("RMSprop", "epsilon", epsilon, 0.0, math.inf)
        self.rho, self.momentum, self.epsilon, self.centered = (
            rho,
            momentum,
            epsilon,
            centered,
        )

    def _torch_class(self) -> Callable[..., torch.optim.Optimizer]:
        return KerasRMSprop

    def _torch_kwargs(self) -> dict[str, Any]:
        return {
            "rho": self.rho,
            "momentum": self.momentum,
            "eps": self.epsilon,
            "centered": self.centered,
        }

    def _hyperparameters(self) -> dict[str, Any]:
        return {
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class _AdamFamily(Optimizer):
    """Shared `beta_1`, `beta_2` and `epsilon` handling."""

    def _set_betas(self, beta_1: float, beta_2: float, epsilon: float) -> None:
        owner = type(self).__name__
        _check_range(owner, "beta_1", beta_1, 0.0, 1.0)
        _check_range(owner, "beta_2", beta_2, 0.0, 1.0)
        _check_range(owner, "epsilon", epsilon, 0.0, math.inf)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def _torch_kwargs(self) -> dict[str, Any]:
        return {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon}

    def _hyperparameters(self) -> dict[str, Any]:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adam(_AdamFamily):
    """Adam exactly as Keras 3 computes it, on `torch.optim.Adam`'s fused kernel.

    Keras puts epsilon outside the bias correction of `v`:
    `w -= lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps)`, where torch
    uses `w -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)`. The
    two are equal when torch's epsilon at step `t` is `eps / sqrt(1 - b2**t)`
    (31.6 * eps at the first step), so `step` sets `param_groups[i]["eps"]` to
    that before each update: a Python float, no extra kernel. 5 steps agree
    with Keras's rule to 1e-12 (float64) for |g| from 1e-5 to 1, AMSGrad
    included, and with Keras 3.15.1 in float64 to 2e-16. (Against Keras in
    float32 early updates differ by up to 1e-5 relative: Keras evaluates
    `b2**t` in float32, where 0.999 is 0.99900001, which moves
    `sqrt(1 - b2**t)` by 6e-6 at the first step.) `t` is
    `iterations + 1`, Keras's step count; it equals torch's per-parameter
    count while every parameter gets a gradient at every step.

    Args:
        learning_rate: Step size (or a schedule).
        beta_1: Decay of the first moment, in [0, 1].
        beta_2: Decay of the second moment, in [0, 1].
        epsilon: Added for numerical stability.
        amsgrad: Whether to use the AMSGrad variant.
        weight_decay: Decoupled weight decay (see `Optimizer`).
        clipnorm: Per-tensor gradient norm clip (see `Optimizer`).
        clipvalue: Per-element gradient clip (see `Optimizer`).
        global_clipnorm: Global gradient norm clip (see `Optimizer`).
        name: Defaults to the class name in lower case.

    Example:
        >>> Adam(learning_rate=1e-3).get_config()["epsilon"]
        1e-07
    """

    _torch_name = "Adam"
    _fused_devices = frozenset({"cpu", "cuda"})

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-07,
        amsgrad: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm,
            clipvalue,
            global_clipnorm,
            name,
            **kwargs,
        )
        self._set_betas(beta_1, beta_2, epsilon)
        self.amsgrad = amsgrad

    def _torch_kwargs(self) -> dict[str, Any]:
        return {**super()._torch_kwargs(), "amsgrad": self.amsgrad}

    def step(self) -> None:
        """Applies one update, with torch's epsilon set to Keras's (see above)."""
        if self.torch_optimizer is not None:
            correction = 1.0 - self.beta_2 ** (self._iterations + 1)
            eps = self.epsilon / math.sqrt(correction) if correction > 0 else math.inf
            for group in self.torch_optimizer.param_groups:
                group["eps"] = eps
        super().step()

    def _hyperparameters(self) -> dict[str, Any]:
        return {**super()._hyperparameters(), "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay: `torch.optim.AdamW`.

    torch's AdamW decays exactly as Keras does (`w -= lr * weight_decay * w`
    before the Adam update), and `Adam.step` sets epsilon as Keras's, so the
    update is Keras's.

    Args:
        learning_rate: Step size (or a schedule).
        weight_decay: Decoupled weight decay; Keras's default 0.004.
        beta_1: Decay of the first moment, in [0, 1].
        beta_2: Decay of the second moment, in [0, 1].
        epsilon: Added for numerical stability.
        amsgrad: Whether to use the AMSGrad variant.
        clipnorm: Per-tensor gradient norm clip (see `Optimizer`).
        clipvalue: Per-element gradient clip (see `Optimizer`).
        global_clipnorm: Global gradient norm clip (see `Optimizer`).
        name: Defaults to `"adamw"`.

    Example:
        >>> AdamW().get_config()["weight_decay"]
        0.004
    """

    _torch_name = "AdamW"
    _native_weight_decay = True

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-07,
        amsgrad: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
            amsgrad,
            weight_decay,
            clipnorm,
            clipvalue,
            global_clipnorm,
            name,
            **kwargs,
        )

    def _torch_kwargs(self) -> dict[str, Any]:
        return {**super()._torch_kwargs(), "weight_decay": self.weight_decay or 0.0}


class Adagrad(Optimizer):
    """Adagrad: `torch.optim.Adagrad`; accumulators start at 0.1 as in Keras.

    Keras divides by `sqrt(acc + epsilon)`, torch by `sqrt(acc) + epsilon`;
    with the accumulator starting at 0.1 the difference is negligible.

    Args:
        learning_rate: Step size (or a schedule).
        initial_accumulator_value: Starting value of the squared-gradient sums.
        epsilon: Added for numerical stability.
        weight_decay: Decoupled weight decay (see `Optimizer`).
        clipnorm: Per-tensor gradient norm clip (see `Optimizer`).
        clipvalue: Per-element gradient clip (see `Optimizer`).
        global_clipnorm: Global gradient norm clip (see `Optimizer`).
        name: Defaults to the class name in lower case.

    Example:
        >>> Adagrad().get_config()["initial_accumulator_value"]
        0.1
    """

    _torch_name = "Adagrad"
    _fused_devices = frozenset({"cpu"})

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-07,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm,
            clipvalue,
            global_clipnorm,
            name,
            **kwargs,
        )
        initial = initial_accumulator_value
        _check_range("Adagrad", "initial_accumulator_value", initial, 0.0, math.inf)
        _check_range("Adagrad", "epsilon", epsilon, 0.0, math.inf)
        self.initial_accumulator_value, self.epsilon = initial, epsilon

    def _torch_kwargs(self) -> dict[str, Any]:
        initial = self.initial_accumulator_value
        return {"initial_accumulator_value": initial, "eps": self.epsilon}

    def _hyperparameters(self) -> dict[str, Any]:
        initial = self.initial_accumulator_value
        return {"initial_accumulator_value": initial, "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta: `torch.optim.Adadelta`, the same update rule as Keras's.

    Args:
        learning_rate: Step size (or a schedule); Keras's default 0.001 (torch's
            is 1.0).
        rho: Decay of the moving averages, in [0, 1].
        epsilon: Added inside the square roots.
        weight_decay: Decoupled weight decay (see `Optimizer`).
        clipnorm: Per-tensor gradient norm clip (see `Optimizer`).
        clipvalue: Per-element gradient clip (see `Optimizer`).
        global_clipnorm: Global gradient norm clip (see `Optimizer`).
        name: Defaults to the class name in lower case.

    Example:
        >>> Adadelta().get_config()["rho"]
        0.95
    """

    _torch_name = "Adadelta"

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-07,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm,
            clipvalue,
            global_clipnorm,
            name,
            **kwargs,
        )
        _check_range("Adadelta", "rho", rho, 0.0, 1.0)
        _check_range("Adadelta", "epsilon", epsilon, 0.0, math.inf)
        self.rho, self.epsilon = rho, epsilon

    def _torch_kwargs(self) -> dict[str, Any]:
        return {"rho": self.rho, "eps": self.epsilon}

    def _hyperparameters(self) -> dict[str, Any]:
        return {"rho": self.rho, "epsilon": self.epsilon}


class Adamax(_AdamFamily):
    """Adamax (Adam with the infinity norm): `torch.optim.Adamax`.

    Keras: `u = max(b2 * u, |g|)`, `w -= lr * m / ((1 - b1**t) * (u + eps))`;
    torch adds epsilon inside the max: `u = max(b2 * u, |g| + eps)`,
    `w -= lr * m / ((1 - b1**t) * u)`. No per-step scalar makes the two equal
    (the state itself differs), so a residual gap remains where |g| nears
    epsilon. Measured over 5 steps (float64, 1000 random elements): for |g|
    around 1 the updates agree to 3e-8; around 1e-5 the largest gap of one
    element's update is 0.5% (3e-5 of the largest update); around 1e-6, 4%.

    Args:
        learning_rate: Step size (or a schedule).
        beta_1: Decay of the first moment, in [0, 1].
        beta_2: Decay of the infinity norm, in [0, 1].
        epsilon: Added for numerical stability.
        weight_decay: Decoupled weight decay (see `Optimizer`).
        clipnorm: Per-tensor gradient norm clip (see `Optimizer`).
        clipvalue: Per-element gradient clip (see `Optimizer`).
        global_clipnorm: Global gradient norm clip (see `Optimizer`).
        name: Defaults to the class name in lower case.

    Example:
        >>> Adamax().get_config()["beta_2"]
        0.999
    """

    _torch_name = "Adamax"

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-07,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm,
            clipvalue,
            global_clipnorm,
            name,
            **kwargs,
        )
        self._set_betas(beta_1, beta_2, epsilon)


class Nadam(_AdamFamily):
    """Adam with Nesterov momentum: `torch.optim.NAdam` set to Keras's schedule.

    Keras's momentum schedule is `b1 * (1 - 0.5 * 0.96**t)`; torch's is
    `b1 * (1 - 0.5 * 0.96**(t * momentum_decay))`, so plait passes
    `momentum_decay=1.0` (torch's default 0.004 would differ). The update is
    then Keras's, epsilon included.

    Args:
        learning_rate: Step size (or a schedule).
        beta_1: Decay of the first moment, in [0, 1].
        beta_2: Decay of the second moment, in [0, 1].
        epsilon: Added for numerical stability.
        weight_decay: Decoupled weight decay (see `Optimizer`).
        clipnorm: Per-tensor gradient norm clip (see `Optimizer`).
        clipvalue: Per-element gradient clip (see `Optimizer`).
        global_clipnorm: Global gradient norm clip (see `Optimizer`).
        name: Defaults to the class name in lower case.

    Example:
        >>> Nadam().name
        'nadam'
    """

    _torch_name = "NAdam"

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-07,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm,
            clipvalue,
            global_clipnorm,
            name,
            **kwargs,
        )
        self._set_betas(beta_1, beta_2, epsilon)

    def _torch_kwargs(self) -> dict[str, Any]:
        return {**super()._torch_kwargs(), "momentum_decay": 1.0}


class Lion(Optimizer):
    """Lion (sign momentum); available only when `torch.optim` has `Lion`.

    Args:
        learning_rate: Step size (or a schedule).
        beta_1: Interpolation of the update direction, in [0, 1].
        beta_2: Decay of the momentum, in [0, 1].
        weight_decay: Decoupled weight decay (see `Optimizer`).
        clipnorm: Per-tensor gradient norm clip (see `Optimizer`).
        clipvalue: Per-element gradient clip (see `Optimizer`).
        global_clipnorm: Global gradient norm clip (see `Optimizer`).
        name: Defaults to the class name in lower case.

    Raises:
        NotImplementedError: If this torch has no `torch.optim.Lion`.

    Example:
        >>> try:
        ...     optimizer = Lion(learning_rate=1e-4)
        ... except NotImplementedError:  # this torch has no torch.optim.Lion
        ...     optimizer = AdamW(learning_rate=1e-4)
    """

    _torch_name = "Lion"

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not hasattr(torch.optim, "Lion"):
            raise NotImplementedError(
                f"Lion: torch {torch.__version__} has no torch.optim.Lion; choose "
                "another optimizer (e.g. 'adamw') or a torch that provides Lion."
            )
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm,
            clipvalue,
            global_clipnorm,
            name,
            **kwargs,
        )
        _check_range("Lion", "beta_1", beta_1, 0.0, 1.0)
        _check_range("Lion", "beta_2", beta_2, 0.0, 1.0)
        self.beta_1, self.beta_2 = beta_1, beta_2

    def _torch_kwargs(self) -> dict[str, Any]:
        return {"betas": (self.beta_1, self.beta_2)}

    def _hyperparameters(self) -> dict[str, Any]:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}


class TorchOptimizer(Optimizer):
    """Wraps an existing `torch.optim.Optimizer` so the trainer can drive it.

    `build` keeps the optimizer's own parameters; `learning_rate` reads the
    first parameter group and sets all groups; clipping arguments still apply.

    Args:
        optimizer: The torch optimizer, already given its parameters.
        clipnorm: Per-tensor gradient norm clip (see `Optimizer`).
        clipvalue: Per-element gradient clip (see `Optimizer`).
        global_clipnorm: Global gradient norm clip (see `Optimizer`).
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


_OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.__name__.lower(): cls
    for cls in (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Lion)
}


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
    if isinstance(identifier, dict) and "class_name" in identifier:
        if identifier["class_name"] == "LossScaleOptimizer":  # mixed_float16
            from plait.mixed_precision.loss_scale import LossScaleOptimizer

            return LossScaleOptimizer.from_config(identifier.get("config") or {})
        cls = _OPTIMIZERS.get(str(identifier["class_name"]).lower())
        if cls is None:
            raise ValueError(
                f"Unknown optimizer {identifier['class_name']!r}; expected one of "
                f"{sorted(_OPTIMIZERS)}."
            )
        return cls.from_config(identifier.get("config") or {})
    if isinstance(identifier, str):
        cls = _OPTIMIZERS.get(identifier.lower())
        if cls is None:
            raise ValueError(
                f"Unknown optimizer {identifier!r}; expected one of {sorted(_OPTIMIZERS)}."
            )
        return cls.from_config({})  # Keras's defaults
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
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
