"""Order statistics of `plait.ops`: median, quantile, percentile (NaN-aware too)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from plait.layers.ops import symbolic_op
from plait.ops._tensor import axes, convert, to_float

__all__ = [
    "median",
    "nanmedian",
    "nanpercentile",
    "nanquantile",
    "percentile",
    "quantile",
]


@symbolic_op("median")
def median(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Median over `axis` (the mean of the two middle values for even counts)."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


@symbolic_op("nanmedian")
def nanmedian(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Median over `axis`, NaNs ignored."""
    return nanquantile(x, 0.5, axis=axis, keepdims=keepdims)


def _quantile(
    fn: Callable[..., torch.Tensor],
    x: Any,
    q: Any,
    axis: Any,
    method: str,
    keepdims: bool,
) -> torch.Tensor:
    t = to_float(convert(x))
    qt = convert(q).to(t.dtype)
    dims = axes(axis)
    if dims is None:
        out = fn(t.reshape(-1), qt, dim=0, interpolation=method)
        if keepdims:
            out = out.reshape((*qt.shape, *([1] * t.ndim)))
        return out
    dims = tuple(d % t.ndim for d in dims)
    rest = [d for d in range(t.ndim) if d not in dims]
    moved = t.permute(*rest, *dims).reshape(*[t.shape[d] for d in rest], -1)
    out = fn(moved, qt, dim=-1, interpolation=method)
    if keepdims:
        shape = [1 if d in dims else t.shape[d] for d in range(t.ndim)]
        out = out.reshape((*qt.shape, *shape))
    return out


@symbolic_op("quantile")
def quantile(
    x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False
) -> torch.Tensor:
    """The `q`-th quantiles (0 to 1) over `axis`."""
    return _quantile(torch.quantile, x, q, axis, method, keepdims)


@symbolic_op("nanquantile")
def nanquantile(
    x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False
) -> torch.Tensor:
    """`quantile`, NaNs ignored."""
    return _quantile(torch.nanquantile, x, q, axis, method, keepdims)


@symbolic_op("percentile")
def percentile(
    x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False
) -> torch.Tensor:
    """The `q`-th percentiles (0 to 100) over `axis`."""
    return _quantile(torch.quantile, x, convert(q) / 100.0, axis, method, keepdims)


@symbolic_op("nanpercentile")
def nanpercentile(
    x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False
) -> torch.Tensor:
    """`percentile`, NaNs ignored."""
    return _quantile(torch.nanquantile, x, convert(q) / 100.0, axis, method, keepdims)
