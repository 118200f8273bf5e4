"""NumPy-style products and matrix helpers of `plait.ops`: matmul, dot, einsum, ..."""

# Keras's op names (copy, round, slice, ...) shadow builtins on purpose.

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from plait.layers.ops import symbolic_op
from plait.ops._tensor import common, convert, named_op, to_float

__all__ = [
    "cross",
    "diag",
    "diagflat",
    "diagonal",
    "diff",
    "dot",
    "einsum",
    "inner",
    "kron",
    "matmul",
    "meshgrid",
    "outer",
    "tensordot",
    "trace",
    "trapezoid",
    "tril",
    "triu",
    "vander",
    "vdot",
]


# ------------------------------------------------------------------ matrices
@symbolic_op("diag")
def diag(x: Any, k: int = 0) -> torch.Tensor:
    """The diagonal of a matrix, or a matrix with a 1-D `x` on its diagonal."""
    return torch.diag(convert(x), k)


@symbolic_op("diagflat")
def diagflat(x: Any, k: int = 0) -> torch.Tensor:
    """A matrix with the flattened `x` on diagonal `k`."""
    return torch.diagflat(convert(x), k)


@symbolic_op("diagonal")
def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    """Diagonals over the plane of `axis1` and `axis2` (as the last axis)."""
    return torch.diagonal(convert(x), offset, axis1, axis2)


@symbolic_op("trace")
def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> torch.Tensor:
    """Sum of a diagonal."""
    d = torch.diagonal(convert(x), offset, axis1, axis2)
    return torch.sum(d, dim=-1).to(
        torch.int32 if not d.is_floating_point() else d.dtype
    )


@symbolic_op("tril")
def tril(x: Any, k: int = 0) -> torch.Tensor:
    """Entries at and below diagonal `k`, zeros above."""
    return torch.tril(convert(x), k)


@symbolic_op("triu")
def triu(x: Any, k: int = 0) -> torch.Tensor:
    """Entries at and above diagonal `k`, zeros below."""
    return torch.triu(convert(x), k)


@symbolic_op("matmul")
def matmul(x1: Any, x2: Any) -> torch.Tensor:
    """Matrix product with NumPy's broadcasting (`x1 @ x2`)."""
    a, b = common(x1, x2)
    if a.dtype == torch.bool:  # Keras compat: bools give bools (torch has no kernel)
        return torch.matmul(a.to(torch.int32), b.to(torch.int32)) > 0
    return torch.matmul(a, b)


@symbolic_op("dot")
def dot(x1: Any, x2: Any) -> torch.Tensor:
    """NumPy's `dot`: scalars multiply, 1-D inner, N-D sums over `x1[-1]`, `x2[-2]`."""
    a, b = common(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim == 1:
        return torch.matmul(a, b)
    return torch.tensordot(a, b, dims=([a.ndim - 1], [b.ndim - 2]))


@symbolic_op("tensordot")
def tensordot(x1: Any, x2: Any, axes: Any = 2) -> torch.Tensor:
    """Sum of products over `axes` (an int, or two lists of axes)."""
    a, b = common(x1, x2)
    dims = (
        axes
        if isinstance(axes, int)
        else [
            list(axes[0]) if isinstance(axes[0], (list, tuple)) else [axes[0]],
            list(axes[1]) if isinstance(axes[1], (list, tuple)) else [axes[1]],
        ]
    )
    return torch.tensordot(a, b, dims=dims)


def _pair_op(
    name: str, fn: Callable[[Any, Any], torch.Tensor], doc: str, flat: bool = False
) -> Callable[..., torch.Tensor]:
    """The op `name(x1, x2) = fn(x1, x2)` (of the flattened tensors if `flat`)."""

    def op(x1: Any, x2: Any) -> torch.Tensor:
        a, b = common(x1, x2)
        return fn(a.reshape(-1), b.reshape(-1)) if flat else fn(a, b)

    return named_op(op, name, doc)


outer = _pair_op(
    "outer", torch.outer, "Outer product of the flattened tensors.", flat=True
)
inner = _pair_op("inner", torch.inner, "Sum of products over the last axes.")
vdot = _pair_op(
    "vdot",
    torch.vdot,
    "Dot product of the flattened tensors (conjugating `x1`).",
    flat=True,
)
kron = _pair_op("kron", torch.kron, "Kronecker product.")


@symbolic_op("cross")
def cross(
    x1: Any,
    x2: Any,
    axisa: int = -1,
    axisb: int = -1,
    axisc: int = -1,
    axis: int | None = None,
) -> torch.Tensor:
    """Cross product of 3-vectors (`axis` overrides the three axes)."""
    a, b = common(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = torch.movedim(a, axisa, -1), torch.movedim(b, axisb, -1)
    a, b = torch.broadcast_tensors(a, b)
    return torch.movedim(torch.linalg.cross(a, b, dim=-1), -1, axisc)


@symbolic_op("einsum")
def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> torch.Tensor:
    """Einstein summation over `operands` as `subscripts` say."""
    return torch.einsum(subscripts, *common(*operands))


@symbolic_op("meshgrid")
def meshgrid(*x: Any, indexing: str = "xy") -> list[torch.Tensor]:
    """Coordinate grids from 1-D tensors."""
    return list(torch.meshgrid(*common(*x), indexing=indexing))


@symbolic_op("diff")
def diff(a: Any, n: int = 1, axis: int = -1) -> torch.Tensor:
    """`n`-th discrete difference along `axis`."""
    return torch.diff(convert(a), n=n, dim=axis)


@symbolic_op("trapezoid")
def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> torch.Tensor:
    """Integral of `y` along `axis` by the trapezoid rule."""
    t = to_float(convert(y))
    if x is None:
        return torch.trapezoid(t, dx=dx, dim=axis)
    return torch.trapezoid(t, convert(x).to(t.dtype), dim=axis)


@symbolic_op("vander")
def vander(x: Any, N: int | None = None, increasing: bool = False) -> torch.Tensor:
    """Vandermonde matrix: powers of the 1-D `x`."""
    t = convert(x)
    return torch.vander(t, N=N, increasing=increasing).to(t.dtype)
