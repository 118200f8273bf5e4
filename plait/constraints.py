"""Weight constraints by Keras name and class (`"max_norm"`, `MaxNorm(3)`).

A constraint is a projection applied to a weight after each optimizer step
(`apply_constraints(model)` does it for a whole model). It sees the weight in
Keras layout: a Dense kernel `(input_dim, units)`, a Conv2D kernel
`(kh, kw, in, out)`, so `axis` means what it means in Keras.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from plait.utils.registry import Configurable as _Configurable
from plait.utils.registry import Registry

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "apply_constraints",
    "get",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "serialize",
    "unit_norm",
]

ConstraintLike = str | dict[str, Any] | Callable[[torch.Tensor], torch.Tensor] | None
Axis = int | list[int] | tuple[int, ...]

# Keras's backend.epsilon(), added to norms before dividing.
_EPSILON = 1e-7


def _norms(w: torch.Tensor, axis: Axis) -> torch.Tensor:
    """L2 norms over `axis`, kept for broadcasting."""
    dims = axis if isinstance(axis, int) else tuple(axis)
    return w.square().sum(dim=dims, keepdim=True).sqrt()


def _axis_config(axis: Axis) -> int | list[int]:
    return axis if isinstance(axis, int) else list(axis)


class Constraint(_Configurable):
    """Base class: `constraint(w)` returns the projected weight (here: `w`).

    Subclass it and define `__call__` (and `get_config` for saving); a plain
    function of a tensor also works where a constraint is expected.

    Example:
        >>> import torch
        >>> class Clip(Constraint):
        ...     def __call__(self, w):
        ...         return w.clamp(-1.0, 1.0)
        >>> Clip()(torch.tensor([-3.0, 0.5])).tolist()
        [-1.0, 0.5]
    """

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        """The projected weight; unchanged for the base class."""
        return w

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


_REGISTRY = Registry("constraint", Constraint)
_REGISTRY.add(Constraint)


@_REGISTRY.register("max_norm")
class MaxNorm(Constraint):
    """Rescales each weight vector whose L2 norm exceeds `max_value` down to it.

    `w * clip(norm, 0, max_value) / (1e-7 + norm)`, with the norm taken over
    `axis` (Keras layout).

    Args:
        max_value: Largest norm allowed.
        axis: Axis (or axes) of the norm. For a Dense kernel `(input_dim, units)`
            the default 0 constrains each unit's incoming weights; for a Conv2D
            kernel `(kh, kw, in, out)` use `[0, 1, 2]`.

    Example:
        >>> import torch
        >>> MaxNorm(1.0)(torch.tensor([[3.0], [4.0]])).squeeze().tolist()
        [0.6000000238418579, 0.800000011920929]
    """

    def __init__(self, max_value: float = 2, axis: Axis = 0) -> None:
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        """`w` rescaled so that its norms are at most `max_value`."""
        norms = _norms(w, self.axis)
        desired = norms.clamp(0, self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        """`{"max_value": ..., "axis": ...}`."""
        return {"max_value": self.max_value, "axis": _axis_config(self.axis)}


@_REGISTRY.register("non_neg")
class NonNeg(Constraint):
    """Clamps the weights at zero from below: `max(w, 0)`.

    Example:
        >>> import torch
        >>> NonNeg()(torch.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        """`max(w, 0)`."""
        return w.clamp(min=0)


@_REGISTRY.register("unit_norm")
class UnitNorm(Constraint):
    """Rescales each weight vector to unit L2 norm: `w / (1e-7 + norm)`.

    Args:
        axis: Axis (or axes) of the norm, in Keras layout (see `MaxNorm`).

    Example:
        >>> import torch
        >>> UnitNorm()(torch.tensor([[3.0], [4.0]])).squeeze().tolist()
        [0.6000000238418579, 0.800000011920929]
    """

    def __init__(self, axis: Axis = 0) -> None:
        self.axis = axis

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        """`w` divided by its norms."""
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        """`{"axis": ...}`."""
        return {"axis": _axis_config(self.axis)}


@_REGISTRY.register("min_max_norm")
class MinMaxNorm(Constraint):
    """Moves each weight vector's L2 norm into `[min_value, max_value]`.

    The new norm is `rate * clip(norm, min_value, max_value) + (1 - rate) * norm`:
    `rate=1` enforces the bounds at once, a smaller rate moves towards them.

    Args:
        min_value: Smallest norm.
        max_value: Largest norm.
        rate: How far to move towards the bounds at each step, in `[0, 1]`.
        axis: Axis (or axes) of the norm, in Keras layout (see `MaxNorm`).

    Example:
        >>> import torch
        >>> w = MinMaxNorm(min_value=1.0, max_value=2.0)(torch.tensor([[0.3], [0.4]]))
        >>> round(float(w.norm()), 4)
        1.0
    """

    def __init__(
        self,
        min_value: float = 0.0,
        max_value: float = 1.0,
        rate: float = 1.0,
        axis: Axis = 0,
    ) -> None:
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        """`w` rescaled towards norms within the bounds."""
        norms = _norms(w, self.axis)
        desired = (
            self.rate * norms.clamp(self.min_value, self.max_value)
            + (1 - self.rate) * norms
        )
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        """`{"min_value": ..., "max_value": ..., "rate": ..., "axis": ...}`."""
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": _axis_config(self.axis),
        }


# Keras's function-style names (aliases of the classes, as in Keras).
max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm


def get(
    identifier: ConstraintLike,
) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """Resolve a constraint: a name, a config dict, a class, an instance or a function.

    Names are Keras's: `"max_norm"`, `"non_neg"`, `"unit_norm"`,
    `"min_max_norm"`, or a class name (`"MaxNorm"`). `None` stays `None`.

    Raises:
        ValueError: an unknown name or class name, listing the valid ones.
        TypeError: anything that is neither of the above.

    Example:
        >>> get("max_norm")
        MaxNorm(max_value=2, axis=0)
        >>> get({"class_name": "UnitNorm", "config": {"axis": [0, 1]}})
        UnitNorm(axis=[0, 1])
    """
    return _REGISTRY.get(identifier)  # type: ignore[no-any-return]


def serialize(
    constraint: Callable[[torch.Tensor], torch.Tensor] | None,
) -> dict[str, Any] | str | None:
    """JSON data for a constraint: `{"class_name": ..., "config": ...}`.

    `None` gives `None`; a function registered with
    `plait.saving.register_serializable()` gives its registered name.

    Raises:
        ValueError: a function or class that plait cannot name.

    Example:
        >>> serialize(MaxNorm(3))
        {'class_name': 'MaxNorm', 'config': {'max_value': 3, 'axis': 0}}
    """
    return _REGISTRY.serialize(constraint)


def apply_constraints(model: torch.nn.Module) -> None:
    """Project every constrained weight of `model` (and its sub-layers) in place.

    The trainer calls this after each optimizer step. Each constraint sees its
    weight in Keras layout (converted with the layer's layout if it stores the
    weight in torch's); a weight shared by several layers is projected once.
    Names, dicts and classes are resolved with `get`.

    Args:
        model: A plait layer or model, or any `torch.nn.Module` holding plait
            layers.

    Example:
        >>> import torch, plait
        >>> layer = plait.layers.Dense(1, kernel_initializer="ones",
        ...                            kernel_constraint=MaxNorm(1.0))
        >>> _ = layer(torch.ones(1, 4))
        >>> apply_constraints(layer)
        >>> layer.kernel.squeeze().tolist()
        [0.5, 0.5, 0.5, 0.5]
    """
    seen: set[int] = set()
    with torch.no_grad():
        for module in model.modules():
            for param, fn in getattr(module, "_constraints", ()):
                if id(param) in seen:
                    continue
                seen.add(id(param))
                project = get(fn)
                if project is None:
                    continue
                layout = module._layout(param)  # type: ignore[operator]
                value = layout[0](param) if layout is not None else param
                value = project(value)
                if layout is not None:
                    value = layout[1](value)
                param.copy_(value)
