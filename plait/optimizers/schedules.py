"""Learning-rate schedules: `schedule(step) -> float`, as `keras.optimizers.schedules`.

Pass one as an optimizer's `learning_rate`; the optimizer evaluates it at its
step count before every update. Values are Python floats computed on the host
from a Python int step, so a schedule never touches the accelerator.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from torch import Tensor

from plait.utils.registry import Registry

__all__ = [
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "serialize",
]


class LearningRateSchedule:
    """Base class of learning-rate schedules: `schedule(step) -> float`.

    The optimizer calls it with its step count before each update (0 for the
    first update), as Keras does.

    Example:
        >>> class Halving(LearningRateSchedule):
        ...     def __call__(self, step):
        ...         return 0.1 * 0.5 ** int(step)
        >>> Halving()(2)
        0.025
    """

    def __call__(self, step: int | Tensor) -> float:
        """Returns the learning rate at `step`."""
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of LearningRateSchedule must "
            "implement __call__(step)."
        )

    # The constructor arguments, kept as attributes of the same names.
    _config_keys: ClassVar[tuple[str, ...]] = ()

    def get_config(self) -> dict[str, Any]:
        """Returns the JSON-able constructor arguments."""
        return {key: getattr(self, key) for key in self._config_keys}

    def _keep(self, args: dict[str, Any]) -> None:
        """Sets the `_config_keys` attributes from `args` (the constructor's
        `locals()`), after checking `decay_steps` where there is one."""
        if "decay_steps" in args:
            _check_decay_steps(type(self).__name__, args["decay_steps"])
        for key in self._config_keys:
            setattr(self, key, args[key])

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """Creates a schedule from `get_config()`'s output."""
        return cls(**config)


def _check_decay_steps(owner: str, decay_steps: float) -> None:
    if decay_steps <= 0:
        raise ValueError(
            f"{owner}: expected `decay_steps` > 0, got decay_steps={decay_steps!r}."
        )


_REGISTRY = Registry("learning-rate schedule", LearningRateSchedule, any_subclass=True)


class _StepDecay(LearningRateSchedule):
    """The arguments of `ExponentialDecay` and `InverseTimeDecay`."""

    initial_learning_rate: float
    decay_steps: float
    decay_rate: float
    staircase: bool
    name: str
    _config_keys = (
        "initial_learning_rate",
        "decay_steps",
        "decay_rate",
        "staircase",
        "name",
    )

    def _progress(self, step: int | Tensor) -> float:
        """`step / decay_steps`, floored with `staircase`: both decays' exponent."""
        p = float(step) / self.decay_steps
        return math.floor(p) if self.staircase else p


@_REGISTRY.register(named=False)
class ExponentialDecay(_StepDecay):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`.

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: Steps over which the rate is multiplied by `decay_rate`.
        decay_rate: The decay factor.
        staircase: Whether to decay in whole `decay_steps` intervals.
        name: Kept for Keras compatibility.

    Example:
        >>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(20)
        0.025
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ) -> None:
        self._keep(locals())

    def __call__(self, step: int | Tensor) -> float:
        """Returns the learning rate at `step`."""
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


@_REGISTRY.register(named=False)
class InverseTimeDecay(_StepDecay):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: The step scale.
        decay_rate: The decay factor.
        staircase: Whether to decay in whole `decay_steps` intervals.
        name: Kept for Keras compatibility.

    Example:
        >>> InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)(2)
        0.05
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ) -> None:
        self._keep(locals())

    def __call__(self, step: int | Tensor) -> float:
        """Returns the learning rate at `step`."""
        return self.initial_learning_rate / (
            1.0 + self.decay_rate * self._progress(step)
        )


@_REGISTRY.register(named=False)
class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` up to `boundaries[0]` (inclusive), `values[1]` up to the next...

    Args:
        boundaries: Increasing step numbers.
        values: One more rate than boundaries.
        name: Kept for Keras compatibility.

    Example:
        >>> schedule = PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
        >>> schedule(10), schedule(11), schedule(21)
        (1.0, 0.5, 0.1)
    """

    def __init__(
        self,
        boundaries: list[float],
        values: list[float],
        name: str = "PiecewiseConstant",
    ) -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "PiecewiseConstantDecay: expected one more value than boundaries, "
                f"got {len(boundaries)} boundaries and {len(values)} values."
            )
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    _config_keys = ("boundaries", "values", "name")

    def __call__(self, step: int | Tensor) -> float:
        """Returns the learning rate at `step`."""
        step_f = float(step)
        for boundary, value in zip(self.boundaries, self.values, strict=False):
            if step_f <= boundary:
                return float(value)
        return float(self.values[-1])


@_REGISTRY.register(named=False)
class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from `initial_learning_rate` to `end_learning_rate`.

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: Steps to reach `end_learning_rate`.
        end_learning_rate: The final rate.
        power: The polynomial's power (1.0 = linear).
        cycle: Whether to restart after `decay_steps` (with longer cycles).
        name: Kept for Keras compatibility.

    Example:
        >>> PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0)(5)
        0.5
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        _check_decay_steps("PolynomialDecay", decay_steps)
        self.initial_learning_rate, self.decay_steps = (
            initial_learning_rate,
            decay_steps,
        )
        self.end_learning_rate, self.power = end_learning_rate, power
        self.cycle, self.name = cycle, name

    _config_keys = (
        "initial_learning_rate",
        "decay_steps",
        "end_learning_rate",
        "power",
        "cycle",
        "name",
    )

    def __call__(self, step: int | Tensor) -> float:
        """Returns the learning rate at `step`."""
        step_f, decay_steps = float(step), float(self.decay_steps)
        if self.cycle:
            decay_steps *= max(1.0, math.ceil(step_f / decay_steps))
        else:
            step_f = min(step_f, decay_steps)
        fraction = 1.0 - step_f / decay_steps
        delta = self.initial_learning_rate - self.end_learning_rate
        return delta * fraction**self.power + self.end_learning_rate


@_REGISTRY.register(named=False)
class CosineDecay(LearningRateSchedule):
    """Cosine decay (SGDR without restarts), with an optional linear warmup.

    Without warmup: `initial * ((1 - alpha) * 0.5 * (1 + cos(pi * t)) + alpha)`
    with `t = min(step, decay_steps) / decay_steps`. With `warmup_target`, the
    rate goes linearly from `initial_learning_rate` to `warmup_target` over
    `warmup_steps`, then decays from `warmup_target`.

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: Steps of the decay.
        alpha: Final rate as a fraction of the decayed-from rate.
        name: Kept for Keras compatibility.
        warmup_target: Rate reached at the end of the warmup; None = no warmup.
        warmup_steps: Steps of the warmup.

    Example:
        >>> round(CosineDecay(1.0, decay_steps=10)(5), 6)
        0.5
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: float = 0,
    ) -> None:
        _check_decay_steps("CosineDecay", decay_steps)
        self.initial_learning_rate, self.decay_steps = (
            initial_learning_rate,
            decay_steps,
        )
        self.alpha, self.name = alpha, name
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    _config_keys = (
        "initial_learning_rate",
        "decay_steps",
        "alpha",
        "name",
        "warmup_target",
        "warmup_steps",
    )

    def _decay(self, step: float, start: float) -> float:
        fraction = step / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int | Tensor) -> float:
        """Returns the learning rate at `step`."""
        step_f = float(step)
        if self.warmup_target is None:
            return self._decay(
                min(step_f, self.decay_steps), self.initial_learning_rate
            )
        step_f = min(step_f, self.decay_steps + self.warmup_steps)
        if step_f < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return self.initial_learning_rate + delta * step_f / self.warmup_steps
        return self._decay(step_f - self.warmup_steps, self.warmup_target)


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """`{"class_name": ..., "config": {...}}` of a schedule.

    Example:
        >>> serialize(ExponentialDecay(0.1, 10, 0.5))["class_name"]
        'ExponentialDecay'
    """
    return _REGISTRY.serialize(schedule)  # type: ignore[return-value]


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> LearningRateSchedule:
    """Rebuilds a schedule from `serialize`'s output.

    Example:
        >>> deserialize(serialize(CosineDecay(1.0, 10)))(10)
        0.0
    """
    return _REGISTRY.deserialize(config, custom_objects)  # type: ignore[no-any-return]
