"""Weight regularizers by Keras name and class (`"l2"`, `L1L2(l1=1e-5, l2=1e-4)`).

A regularizer is a function of a weight returning a scalar penalty that training
adds to the loss. Keras 3 semantics: `L2(l2=0.01)(w) == 0.01 * sum(w ** 2)` (no
factor 1/2, unlike `torch.optim`'s `weight_decay`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from plait.utils.registry import Configurable as _Configurable
from plait.utils.registry import Registry

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "OrthogonalRegularizer",
    "Regularizer",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "orthogonal_regularizer",
    "serialize",
]

RegularizerLike = str | dict[str, Any] | Callable[[torch.Tensor], Any] | None


def _check_factor(owner: str, name: str, value: Any) -> float:
    """A finite, non-negative float (Keras's `validate_float_arg`)."""
    if value is None:
        return 0.0
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(
            f"{owner}: expected `{name}` to be a finite float >= 0, "
            f"got {name}={value!r}."
        )
    return float(value)


class Regularizer(_Configurable):
    """Base class: `regularizer(weight)` returns a scalar tensor penalty.

    Subclass it and define `__call__` (and `get_config` for saving). Any plain
    function of a tensor returning a scalar also works where a regularizer is
    expected.

    Example:
        >>> import torch
        >>> class Sum(Regularizer):
        ...     def __call__(self, x):
        ...         return x.sum()
        >>> float(Sum()(torch.ones(2, 2)))
        4.0
    """

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The penalty for `x` (a scalar tensor); zero for the base class."""
        return torch.zeros((), dtype=x.dtype, device=x.device)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


_REGISTRY = Registry("regularizer", Regularizer)
_REGISTRY.add(Regularizer)


@_REGISTRY.register()
class L1L2(Regularizer):
    """Both penalties: `l1 * sum(|x|) + l2 * sum(x ** 2)`.

    Args:
        l1: L1 factor, a float >= 0. Default 0.
        l2: L2 factor, a float >= 0. Default 0.

    Example:
        >>> import torch
        >>> float(L1L2(l1=0.5, l2=0.25)(torch.tensor([-2.0, 2.0])))
        4.0
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _check_factor("L1L2", "l1", l1)
        self.l2 = _check_factor("L1L2", "l2", l2)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """`l1 * sum(|x|) + l2 * sum(x ** 2)`."""
        penalty = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1:
            penalty = penalty + self.l1 * x.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * x.square().sum()
        return penalty

    def get_config(self) -> dict[str, Any]:
        """`{"l1": ..., "l2": ...}`."""
        return {"l1": self.l1, "l2": self.l2}


@_REGISTRY.register("l1")
class L1(Regularizer):
    """L1 penalty: `l1 * sum(|x|)`.

    Args:
        l1: Factor, a float >= 0. Default 0.01 (also what the string `"l1"` gives).

    Example:
        >>> import torch
        >>> float(L1(0.5)(torch.tensor([-1.0, 3.0])))
        2.0
    """

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = _check_factor("L1", "l1", 0.01 if l1 is None else l1)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """`l1 * sum(|x|)`."""
        return self.l1 * x.abs().sum()

    def get_config(self) -> dict[str, Any]:
        """`{"l1": ...}`."""
        return {"l1": self.l1}


@_REGISTRY.register("l2")
class L2(Regularizer):
    """L2 penalty: `l2 * sum(x ** 2)` (Keras's, with no factor 1/2).

    Args:
        l2: Factor, a float >= 0. Default 0.01 (also what the string `"l2"` gives).

    Example:
        >>> import torch
        >>> float(L2(2.0)(torch.ones(5, 5)))
        50.0
    """

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = _check_factor("L2", "l2", 0.01 if l2 is None else l2)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """`l2 * sum(x ** 2)`."""
        return self.l2 * x.square().sum()

    def get_config(self) -> dict[str, Any]:
        """`{"l2": ...}`."""
        return {"l2": self.l2}


@_REGISTRY.register("orthogonal_regularizer")
class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2D weight towards orthogonality.

    The penalty is `factor * 0.5 * sum(|P - diag(P)|) / (n * (n - 1) / 2)` where
    `P` holds the dot products of the L2-normalized rows (`mode="rows"`) or
    columns (`mode="columns"`) and `n` is their number: `factor / 2` times the
    mean absolute cosine between distinct pairs, counted twice.

    Args:
        factor: A float >= 0. Default 0.01.
        mode: `"rows"` or `"columns"`. For a Dense kernel `(input_dim, units)`,
            `"rows"` makes the input features' weight vectors orthogonal.

    Example:
        >>> import torch
        >>> float(OrthogonalRegularizer(1.0)(torch.eye(3)))
        0.0
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        self.factor = _check_factor("OrthogonalRegularizer", "factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(
                "OrthogonalRegularizer: expected `mode` in ('rows', 'columns'), "
                f"got mode={mode!r}."
            )
        self.mode = mode

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The mean absolute cosine between distinct rows (or columns), scaled."""
        if x.dim() != 2:
            raise ValueError(
                "OrthogonalRegularizer: expected a 2D weight, got shape "
                f"{tuple(x.shape)}."
            )
        vectors = x if self.mode == "rows" else x.t()  # (n, length)
        # Keras compat: `x * min(rsqrt(sum(x^2)), 1 / 1e-7)` (ops.normalize).
        inv_norm = torch.rsqrt(vectors.square().sum(1, keepdim=True)).clamp(max=1e7)
        unit = vectors * inv_norm
        product = unit @ unit.t()  # (n, n) cosines
        n = product.shape[0]
        off_diagonal = product.abs().sum() - product.diagonal().abs().sum()
        return self.factor * 0.5 * off_diagonal / (n * (n - 1) / 2.0)

    def get_config(self) -> dict[str, Any]:
        """`{"factor": ..., "mode": ...}`."""
        return {"factor": self.factor, "mode": self.mode}


# Keras's function-style names.
l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer


@_REGISTRY.register("l1l2")
def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """`L1L2` with Keras 2's defaults of 0.01 for both (the `"l1_l2"` string too).

    Example:
        >>> l1_l2().get_config()
        {'l1': 0.01, 'l2': 0.01}
    """
    return L1L2(l1=l1, l2=l2)


def get(identifier: RegularizerLike) -> Callable[[torch.Tensor], Any] | None:
    """Resolve a regularizer: a name, a config dict, a class, an instance or a function.

    Names are Keras's: `"l1"`, `"l2"` (factor 0.01), `"l1_l2"` (0.01 each),
    `"orthogonal_regularizer"`, or a class name (`"L2"`). `None` stays `None`.

    Raises:
        ValueError: an unknown name or class name, listing the valid ones.
        TypeError: anything that is neither of the above.

    Example:
        >>> get("l2")
        L2(l2=0.01)
        >>> get({"class_name": "L1", "config": {"l1": 0.1}})
        L1(l1=0.1)
    """
    return _REGISTRY.get(identifier)  # type: ignore[no-any-return]


def serialize(
    regularizer: Callable[[torch.Tensor], Any] | None,
) -> dict[str, Any] | str | None:
    """JSON data for a regularizer: `{"class_name": ..., "config": ...}`.

    `None` gives `None`; a function registered with
    `plait.saving.register_serializable()` gives its registered name.

    Raises:
        ValueError: a function or class that plait cannot name.

    Example:
        >>> serialize(L2(0.1))
        {'class_name': 'L2', 'config': {'l2': 0.1}}
    """
    return _REGISTRY.serialize(regularizer)
