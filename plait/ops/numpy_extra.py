"""More NumPy-style ops of `plait.ops`: windows, spacing, statistics, views, `unique`."""

# Keras's argument names (range, sorted) shadow builtins on purpose.
# ruff: noqa: A002

from __future__ import annotations

import builtins
import math
import re
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from plait.graph.symbolic import SymbolicTensor
from plait.layers.ops import symbolic_op
from plait.ops._tensor import (
    as_dtype,
    common,
    convert,
    floatx,
    named_op,
    shape_tuple,
    to_float,
)
from plait.ops.numpy_create import linspace

__all__ = [
    "argpartition", "bartlett", "blackman", "cdist", "corrcoef", "correlate",
    "geomspace", "hamming", "hanning", "histogram", "kaiser", "rearrange", "slogdet", "unique",
    "unravel_index", "view", "view_as_complex", "view_as_real",
]  # fmt: skip


# ------------------------------------------------------------------ windows
def _window(
    name: str, make: Callable[..., torch.Tensor], what: str
) -> Callable[..., torch.Tensor]:
    def op(x: Any) -> torch.Tensor:
        return make(int(x), periodic=False, dtype=floatx())

    return named_op(op, name, f"The symmetric {what} window of `x` points (NumPy's).")


bartlett = _window("bartlett", torch.bartlett_window, "Bartlett (triangular)")
blackman = _window("blackman", torch.blackman_window, "Blackman")
hamming = _window("hamming", torch.hamming_window, "Hamming")
hanning = _window("hanning", torch.hann_window, "Hann")


@symbolic_op("kaiser")
def kaiser(x: Any, beta: float) -> torch.Tensor:
    """The symmetric Kaiser window of `x` points and shape `beta` (NumPy's)."""
    return torch.kaiser_window(int(x), periodic=False, beta=float(beta), dtype=floatx())


# ------------------------------------------------------------------ spacing
def geomspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    dtype: Any = None,
    axis: int = 0,
) -> torch.Tensor:
    """`num` values from `start` to `stop`, evenly spaced on a log scale."""
    a, b = (to_float(t) for t in common(start, stop))
    sign = torch.sign(a)
    exponents = linspace(
        torch.log(a * sign), torch.log(b * sign), num, endpoint, axis=axis
    )
    out = sign * torch.exp(exponents)
    # Exact end points, as NumPy.
    index = [builtins.slice(None)] * out.ndim
    index[axis] = 0  # type: ignore[call-overload]
    out[tuple(index)] = a
    if endpoint and num > 1:
        index[axis] = -1  # type: ignore[call-overload]
        out[tuple(index)] = b
    return out.to(as_dtype(dtype)) if dtype is not None else out


# -------------------------------------------------------------- statistics
@symbolic_op("cdist")
def cdist(x: Any, y: Any) -> torch.Tensor:
    """Euclidean distances between the rows of `x` and those of `y`."""
    a, b = (to_float(t) for t in common(x, y))
    return torch.cdist(a, b)


@symbolic_op("corrcoef")
def corrcoef(x: Any) -> torch.Tensor:
    """Pearson correlation coefficients of the rows of `x`."""
    return torch.corrcoef(to_float(convert(x)))


_CORRELATE_MODES = ("valid", "same", "full")


@symbolic_op("correlate")
def correlate(x1: Any, x2: Any, mode: str = "valid") -> torch.Tensor:
    """NumPy's `correlate` of two 1-D tensors: `c[k] = sum_n x1[n + k] * x2[n]`."""
    if mode not in _CORRELATE_MODES:
        raise ValueError(
            f"ops.correlate: expected mode in {_CORRELATE_MODES}, got mode={mode!r}."
        )
    a, v = (to_float(t) for t in common(x1, x2))
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(
            f"ops.correlate: expected two 1-D tensors, got shapes {tuple(a.shape)} "
            f"and {tuple(v.shape)}."
        )
    n, m = a.numel(), v.numel()
    full = F.conv1d(F.pad(a, (m - 1, m - 1)).reshape(1, 1, -1), v.reshape(1, 1, -1))
    full = full.reshape(-1)  # length n + m - 1
    if mode == "full":
        return full
    length = (
        builtins.max(n, m) if mode == "same" else builtins.max(n, m) - min(n, m) + 1
    )
    start = (full.numel() - length + (mode == "same" and n < m)) // 2
    return full[start : start + length]


@symbolic_op("histogram")
def histogram(
    x: Any, bins: int = 10, range: tuple[float, float] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Counts (floats) of `x` in `bins` equal bins over `range` (default: min to
    max), and the bin edges."""
    t = to_float(convert(x)).reshape(-1)
    low, high = (float(t.min()), float(t.max())) if range is None else map(float, range)
    edges = torch.linspace(low, high, int(bins) + 1, dtype=t.dtype, device=t.device)
    index = torch.bucketize(t, edges, right=True) - 1
    index = torch.where(t == high, int(bins) - 1, index)  # the last bin is closed
    inside = (t >= low) & (t <= high)
    counts = torch.bincount(index[inside], minlength=int(bins))
    return counts.to(t.dtype), edges  # Keras compat: float counts


@symbolic_op("slogdet")
def slogdet(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The sign and the log of the absolute value of the determinant."""
    sign, logabsdet = torch.linalg.slogdet(to_float(convert(x)))
    return sign, logabsdet


@symbolic_op("argpartition")
def argpartition(x: Any, kth: int, axis: int = -1) -> torch.Tensor:
    """Indices that put the `kth` entry in its sorted place, smaller ones before it.

    The order within each side is the stable sort's (any order is valid).
    """
    t = convert(x)
    t = t.to(torch.uint8) if t.dtype == torch.bool else t
    return torch.argsort(t, dim=axis, stable=True).to(torch.int32)


# --------------------------------------------------------------- indices, views
@symbolic_op("unravel_index")
def unravel_index(indices: Any, shape: Any) -> tuple[torch.Tensor, ...]:
    """The coordinates in an array of `shape` of the flat `indices`."""
    t = convert(indices)
    coords = torch.unravel_index(t.to(torch.long), shape_tuple(shape))
    return tuple(c.to(t.dtype) for c in coords)


@symbolic_op("view")
def view(x: Any, dtype: Any = None) -> torch.Tensor:
    """The same bytes read as `dtype` (the last axis scales with the item size)."""
    t = convert(x)
    return t if dtype is None else t.view(as_dtype(dtype))  # type: ignore[arg-type]


@symbolic_op("view_as_complex")
def view_as_complex(x: Any) -> torch.Tensor:
    """A `(..., 2)` real tensor read as complex numbers (real, imaginary)."""
    return torch.view_as_complex(to_float(convert(x)).contiguous())


@symbolic_op("view_as_real")
def view_as_real(x: Any) -> torch.Tensor:
    """A complex tensor as `(..., 2)` reals (real, imaginary)."""
    return torch.view_as_real(convert(x))


# ------------------------------------------------------------------ unique
def unique(
    x: Any,
    sorted: bool = True,
    return_index: bool = False,
    return_inverse: bool = False,
    return_counts: bool = False,
    axis: int | None = None,
    size: int | None = None,
    fill_value: Any = None,
) -> Any:
    """The distinct values of `x` (sorted), with NumPy's optional extras.

    Eager only: the number of distinct values depends on the data. With
    `size`, the values are cut or padded to `size` (with `fill_value`, else the
    smallest value); first indices and counts likewise (padded with 0).
    """
    if isinstance(x, SymbolicTensor):
        raise ValueError(
            "ops.unique: expected a tensor with values, got a symbolic tensor (its "
            "output shape depends on the data); call it eagerly, e.g. inside a "
            "custom layer's call."
        )
    t = convert(x)
    flat = t.reshape(-1) if axis is None else t
    values, inverse, counts = torch.unique(
        flat, sorted=True, return_inverse=True, return_counts=True, dim=axis
    )
    n = values.shape[0 if axis is None else axis]
    first = torch.full((n,), inverse.numel(), dtype=torch.long, device=t.device)
    positions = torch.arange(inverse.numel(), device=t.device)
    first = first.scatter_reduce(0, inverse.reshape(-1), positions, reduce="amin")
    if size is not None:
        values = _to_size(values, size, fill_value, axis or 0)
        first, counts = (_to_size(e, size, 0, 0) for e in (first, counts))
    chosen = [(return_index, first), (return_inverse, inverse), (return_counts, counts)]
    extras = [e.to(torch.int32) for wanted, e in chosen if wanted]
    return (values, *extras) if extras else values


def _to_size(t: torch.Tensor, size: int, fill: Any, dim: int) -> torch.Tensor:
    """`t` cut or padded with `fill` (its minimum when None) to `size` along `dim`."""
    n = t.shape[dim]
    if n >= size:
        return t.narrow(dim, 0, size)
    shape = list(t.shape)
    shape[dim] = size - n
    value = t.min().item() if fill is None else fill
    padding = torch.full(shape, value, dtype=t.dtype, device=t.device)
    return torch.cat([t, padding], dim=dim)


# ---------------------------------------------------------------- rearrange
_TOKEN = re.compile(r"\(|\)|[A-Za-z_][A-Za-z0-9_]*")


def _groups(side: str, pattern: str) -> list[list[str]]:
    """`"b (h w) c"` as `[["b"], ["h", "w"], ["c"]]`."""
    groups: list[list[str]] = []
    current: list[str] | None = None
    for token in _TOKEN.findall(side):
        if token == "(":
            current = []
        elif token == ")":
            groups.append(current or [])
            current = None
        elif current is not None:
            current.append(token)
        else:
            groups.append([token])
    if current is not None or _TOKEN.sub("", side).strip():
        raise ValueError(
            f"ops.rearrange: expected a pattern of names and (groups) such as "
            f"'b (h w) c -> b h w c', got pattern={pattern!r}."
        )
    return groups


@symbolic_op("rearrange")
def rearrange(tensor: Any, pattern: str, **axes_lengths: int) -> torch.Tensor:
    """Reorder, split and merge axes by an einops pattern (`"b (h w) c -> b h w c"`).

    Sizes of split axes that the shape does not fix come from `axes_lengths`.
    """
    t = convert(tensor)
    left, _, right = pattern.partition("->")
    source, target = _groups(left, pattern), _groups(right, pattern)
    names = [name for group in source for name in group]
    targets = [name for group in target for name in group]
    if len(source) != t.ndim or sorted(names) != sorted(targets):
        raise ValueError(
            f"ops.rearrange: expected the same names on both sides and one group "
            f"per axis of the input (shape {tuple(t.shape)}), got pattern={pattern!r}."
        )
    sizes = {name: int(n) for name, n in axes_lengths.items()}
    for group, n in zip(source, t.shape):
        unknown = [name for name in group if name not in sizes]
        known = math.prod(sizes[name] for name in group if name in sizes)
        if len(unknown) > 1:
            raise ValueError(
                f"ops.rearrange: expected the sizes of all but one of {unknown} in "
                f"axes_lengths, got {axes_lengths}."
            )
        if unknown:
            sizes[unknown[0]] = n // known
    split = t.reshape([sizes[name] for name in names])
    moved = split.permute([names.index(name) for name in targets])
    return moved.reshape([math.prod(sizes[name] for name in g) for g in target])
