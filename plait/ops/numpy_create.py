"""NumPy-style tensor creation of `plait.ops`: zeros, ones, full, eye, arange, ..."""

# Keras's op names (copy, round, slice, ...) shadow builtins on purpose.

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from plait.layers.ops import symbolic_op
from plait.ops._tensor import as_dtype, convert, device, floatx, shape_tuple, to_float

__all__ = [
    "arange",
    "array",
    "empty",
    "empty_like",
    "eye",
    "full",
    "full_like",
    "identity",
    "linspace",
    "logspace",
    "ones",
    "ones_like",
    "tri",
    "zeros",
    "zeros_like",
]


# ------------------------------------------------------------------ creation
def zeros(shape: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of zeros (floatx unless `dtype`)."""
    return torch.zeros(
        shape_tuple(shape), dtype=as_dtype(dtype) or floatx(), device=device()
    )


def ones(shape: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of ones (floatx unless `dtype`)."""
    return torch.ones(
        shape_tuple(shape), dtype=as_dtype(dtype) or floatx(), device=device()
    )


def empty(shape: Any, dtype: Any = None) -> torch.Tensor:
    """An uninitialised tensor (floatx unless `dtype`)."""
    return torch.empty(
        shape_tuple(shape), dtype=as_dtype(dtype) or floatx(), device=device()
    )


def full(shape: Any, fill_value: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor filled with `fill_value` (floatx unless `dtype`, as Keras)."""
    value = convert(fill_value, dtype or floatx())
    return value.expand(shape_tuple(shape)).clone()


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:
    """`N x M` matrix with ones on diagonal `k`."""
    return tri(N, M, k, dtype) - tri(N, M, k - 1, dtype)


def identity(n: int, dtype: Any = None) -> torch.Tensor:
    """The `n x n` identity matrix."""
    return torch.eye(n, dtype=as_dtype(dtype) or floatx(), device=device())


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:
    """`N x M` matrix with ones at and below diagonal `k`."""
    ones_ = torch.ones(
        (N, N if M is None else M), dtype=as_dtype(dtype) or floatx(), device=device()
    )
    return torch.tril(ones_, diagonal=k)


def arange(
    start: Any, stop: Any = None, step: Any = None, dtype: Any = None
) -> torch.Tensor:
    """Evenly spaced values in `[start, stop)`; int32 for ints, floatx otherwise."""
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    target = as_dtype(dtype)
    if target is None:
        is_int = builtins.all(
            isinstance(v, (int, np.integer))
            or (isinstance(v, torch.Tensor) and not v.is_floating_point())
            for v in (start, stop, step)
        )
        target = torch.int32 if is_int else floatx()
    return torch.arange(start, stop, step, device=device()).to(target)


def _spaced(start: Any, stop: Any, num: int, endpoint: bool, axis: int) -> torch.Tensor:
    a, b = (to_float(convert(v)) for v in (start, stop))
    steps = num - 1 if endpoint else num
    frac = torch.arange(num, dtype=a.dtype, device=device()) / builtins.max(steps, 1)
    frac = frac.reshape((-1, *([1] * builtins.max(a.ndim, b.ndim))))
    out = a + (b - a) * frac
    return torch.movedim(out, 0, axis) if out.ndim > 1 else out


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """`num` evenly spaced values from `start` to `stop`."""
    out = _spaced(start, stop, num, endpoint, axis)
    out = out.to(as_dtype(dtype)) if dtype is not None else out
    if retstep:
        step = (convert(stop) - convert(start)) / builtins.max(
            num - 1 if endpoint else num, 1
        )
        # Keras compat: the step of scalar bounds is a Python float.
        return out, float(step) if step.ndim == 0 else step
    return out


def logspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    base: float = 10,
    dtype: Any = None,
    axis: int = 0,
) -> torch.Tensor:
    """`base ** linspace(start, stop, num)`."""
    out = torch.pow(base, _spaced(start, stop, num, endpoint, axis))
    return out.to(as_dtype(dtype)) if dtype is not None else out


def array(x: Any, dtype: Any = None) -> torch.Tensor:
    """`x` as a tensor (same as `convert_to_tensor`)."""
    return convert(x, dtype)


def _like(name: str, make: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    def op(x: Any, dtype: Any = None) -> torch.Tensor:
        t = convert(x)
        return make(t, dtype=as_dtype(dtype) or t.dtype)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"`{name}`: a new tensor shaped like `x` (its dtype unless `dtype`)."
    return symbolic_op(name)(op)


zeros_like = _like("zeros_like", torch.zeros_like)
ones_like = _like("ones_like", torch.ones_like)
empty_like = _like("empty_like", torch.empty_like)


@symbolic_op("full_like")
def full_like(x: Any, fill_value: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor shaped like `x` filled with `fill_value`."""
    t = convert(x)
    return torch.full_like(t, fill_value, dtype=as_dtype(dtype) or t.dtype)
