"""Linear algebra of `plait.ops` (`keras.ops.linalg`), over `torch.linalg`."""

# Keras's argument names (ord, sorted) shadow builtins on purpose.
# ruff: noqa: A002

from __future__ import annotations

from typing import Any

import torch

from plait.layers.ops import symbolic_op
from plait.ops._tensor import axes, common, convert, missing, to_float
from plait.ops.transforms import jvp

__all__ = [
    "cholesky",
    "cholesky_inverse",
    "det",
    "eig",
    "eigh",
    "inv",
    "jvp",
    "lstsq",
    "lu_factor",
    "matrix_rank",
    "norm",
    "pinv",
    "qr",
    "solve",
    "solve_triangular",
    "svd",
]  # fmt: skip


@symbolic_op("cholesky")
def cholesky(x: Any, upper: bool = False) -> torch.Tensor:
    """The Cholesky factor of (batches of) positive-definite matrices."""
    return torch.linalg.cholesky(to_float(convert(x)), upper=upper)


@symbolic_op("cholesky_inverse")
def cholesky_inverse(x: Any, upper: bool = False) -> torch.Tensor:
    """The inverse of `A` from its Cholesky factor `x`."""
    return torch.cholesky_inverse(to_float(convert(x)), upper=upper)


@symbolic_op("det")
def det(x: Any) -> torch.Tensor:
    """Determinant."""
    return torch.linalg.det(to_float(convert(x)))


@symbolic_op("eig")
def eig(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues and eigenvectors (complex) of square matrices."""
    return torch.linalg.eig(to_float(convert(x)))  # type: ignore[return-value]


@symbolic_op("eigh")
def eigh(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices."""
    return torch.linalg.eigh(to_float(convert(x)))  # type: ignore[return-value]


@symbolic_op("inv")
def inv(x: Any) -> torch.Tensor:
    """Matrix inverse."""
    return torch.linalg.inv(to_float(convert(x)))


@symbolic_op("lstsq")
def lstsq(a: Any, b: Any, rcond: float | None = None) -> torch.Tensor:
    """The least-squares solution `x` of `a @ x = b`."""
    ta, tb = (to_float(t) for t in common(a, b))
    return torch.linalg.lstsq(ta, tb, rcond=rcond, driver="gelsd").solution


@symbolic_op("lu_factor")
def lu_factor(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """LU factorisation: the packed LU matrix and the (0-based) pivots."""
    lu, pivots = torch.linalg.lu_factor(to_float(convert(x)))
    return lu, (pivots - 1).to(torch.int32)


@symbolic_op("matrix_rank")
def matrix_rank(x: Any, tol: float | None = None) -> torch.Tensor:
    """Numerical rank."""
    return torch.linalg.matrix_rank(to_float(convert(x)), atol=tol).to(torch.int32)


@symbolic_op("norm")
def norm(
    x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False
) -> torch.Tensor:
    """Vector or matrix norm (NumPy's `linalg.norm` rules for `ord` and `axis`)."""
    t = to_float(convert(x))
    dims = axes(axis)
    if dims is None:
        if ord is None:
            return torch.linalg.vector_norm(t, 2, keepdim=keepdims)
        dims = tuple(range(t.ndim))
    if len(dims) == 1:
        return torch.linalg.vector_norm(
            t, 2 if ord is None else ord, dim=dims, keepdim=keepdims
        )
    return torch.linalg.matrix_norm(
        t, "fro" if ord is None else ord, dim=dims, keepdim=keepdims
    )


@symbolic_op("pinv")
def pinv(x: Any, rcond: float | None = None) -> torch.Tensor:
    """Moore-Penrose pseudo-inverse."""
    return torch.linalg.pinv(to_float(convert(x)), rtol=rcond)


@symbolic_op("qr")
def qr(x: Any, mode: str = "reduced") -> tuple[torch.Tensor, torch.Tensor]:
    """QR decomposition (`mode` "reduced" or "complete")."""
    return torch.linalg.qr(to_float(convert(x)), mode=mode)  # type: ignore[return-value]


@symbolic_op("solve")
def solve(a: Any, b: Any) -> torch.Tensor:
    """The `x` with `a @ x = b`."""
    ta, tb = (to_float(t) for t in common(a, b))
    return torch.linalg.solve(ta, tb)


@symbolic_op("solve_triangular")
def solve_triangular(a: Any, b: Any, lower: bool = False) -> torch.Tensor:
    """`solve` for a triangular `a`."""
    ta, tb = (to_float(t) for t in common(a, b))
    vector = tb.ndim == ta.ndim - 1
    out = torch.linalg.solve_triangular(
        ta, tb.unsqueeze(-1) if vector else tb, upper=not lower
    )
    return out.squeeze(-1) if vector else out


@symbolic_op("svd")
def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """Singular value decomposition: `u, s, vh` (or only `s`)."""
    t = to_float(convert(x))
    if not compute_uv:
        return torch.linalg.svdvals(t)
    return tuple(torch.linalg.svd(t, full_matrices=full_matrices))


NOT_PROVIDED: dict[str, str] = {}
__getattr__ = missing("plait.ops.linalg", NOT_PROVIDED)
