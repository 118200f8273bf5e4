"""The adaptive optimizers: Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Lion.

Each is a row of the hyperparameter table (`plait.optimizers.table`) and a
Keras signature made by `keras_init`; the class docstrings say how each maps
onto its `torch.optim` class, and how large any residual difference is.
"""

from __future__ import annotations

import math

import torch

from plait.optimizers.base import Optimizer, keras_init
from plait.optimizers.table import _TABLE

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Lion", "Nadam"]


def _check_lion() -> None:
    if not hasattr(torch.optim, "Lion"):
        raise NotImplementedError(
            f"Lion: torch {torch.__version__} has no torch.optim.Lion; choose "
            "another optimizer (e.g. 'adamw') or a torch that provides Lion."
        )


class Adam(Optimizer):
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
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: As for
            `Optimizer`.

    Example:
        >>> Adam(learning_rate=1e-3).get_config()["epsilon"]
        1e-07
    """

    _spec = _TABLE["Adam"]
    beta_1: float
    beta_2: float
    epsilon: float
    amsgrad: bool

    __init__ = keras_init(0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=False)

    def step(self) -> None:
        """Applies one update, with torch's epsilon set to Keras's (see above)."""
        if self.torch_optimizer is not None:
            correction = 1.0 - self.beta_2 ** (self._iterations + 1)
            eps = self.epsilon / math.sqrt(correction) if correction > 0 else math.inf
            for group in self.torch_optimizer.param_groups:
                group["eps"] = eps
        super().step()


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
        clipnorm, clipvalue, global_clipnorm, name: As for `Optimizer`.

    Example:
        >>> AdamW().get_config()["weight_decay"]
        0.004
    """

    _spec = _TABLE["AdamW"]

    __init__ = keras_init(
        0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-07,
        amsgrad=False,
    )


class Adagrad(Optimizer):
    """Adagrad: `torch.optim.Adagrad`; accumulators start at 0.1 as in Keras.

    Keras divides by `sqrt(acc + epsilon)`, torch by `sqrt(acc) + epsilon`;
    with the accumulator starting at 0.1 the difference is negligible.

    Args:
        learning_rate: Step size (or a schedule).
        initial_accumulator_value: Starting value of the squared-gradient sums.
        epsilon: Added for numerical stability.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: As for
            `Optimizer`.

    Example:
        >>> Adagrad().get_config()["initial_accumulator_value"]
        0.1
    """

    _spec = _TABLE["Adagrad"]
    initial_accumulator_value: float
    epsilon: float

    __init__ = keras_init(0.001, initial_accumulator_value=0.1, epsilon=1e-07)


class Adadelta(Optimizer):
    """Adadelta: `torch.optim.Adadelta`, the same update rule as Keras's.

    Args:
        learning_rate: Step size (or a schedule); Keras's default 0.001 (torch's
            is 1.0).
        rho: Decay of the moving averages, in [0, 1].
        epsilon: Added inside the square roots.
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: As for
            `Optimizer`.

    Example:
        >>> Adadelta().get_config()["rho"]
        0.95
    """

    _spec = _TABLE["Adadelta"]
    rho: float
    epsilon: float

    __init__ = keras_init(0.001, rho=0.95, epsilon=1e-07)


class Adamax(Optimizer):
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
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: As for
            `Optimizer`.

    Example:
        >>> Adamax().get_config()["beta_2"]
        0.999
    """

    _spec = _TABLE["Adamax"]
    beta_1: float
    beta_2: float
    epsilon: float

    __init__ = keras_init(0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07)


class Nadam(Optimizer):
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
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: As for
            `Optimizer`.

    Example:
        >>> Nadam().name
        'nadam'
    """

    _spec = _TABLE["Nadam"]
    beta_1: float
    beta_2: float
    epsilon: float

    __init__ = keras_init(0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07)


class Lion(Optimizer):
    """Lion (sign momentum); available only when `torch.optim` has `Lion`.

    Args:
        learning_rate: Step size (or a schedule).
        beta_1: Interpolation of the update direction, in [0, 1].
        beta_2: Decay of the momentum, in [0, 1].
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: As for
            `Optimizer`.

    Raises:
        NotImplementedError: If this torch has no `torch.optim.Lion`.

    Example:
        >>> try:
        ...     optimizer = Lion(learning_rate=1e-4)
        ... except NotImplementedError:  # this torch has no torch.optim.Lion
        ...     optimizer = AdamW(learning_rate=1e-4)
    """

    _spec = _TABLE["Lion"]
    beta_1: float
    beta_2: float

    __init__ = keras_init(0.001, beta_1=0.9, beta_2=0.99, check=_check_lion)
