"""NumPy-style array functions of `plait.ops`: shapes, joins, splits, indexing."""

# Keras's op names (copy, round, slice, ...) shadow builtins on purpose.

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
import torch

from plait.layers.ops import symbolic_op
from plait.ops._tensor import axes, common, convert, shape_tuple, to_float

__all__ = [
    "append",
    "argsort",
    "array_split",
    "bincount",
    "broadcast_to",
    "clip",
    "concatenate",
    "copy",
    "digitize",
    "dsplit",
    "dstack",
    "expand_dims",
    "flip",
    "fliplr",
    "flipud",
    "hsplit",
    "hstack",
    "isin",
    "moveaxis",
    "ndim",
    "nonzero",
    "pad",
    "ravel",
    "repeat",
    "reshape",
    "roll",
    "rot90",
    "searchsorted",
    "select",
    "size",
    "sort",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "take",
    "take_along_axis",
    "tile",
    "transpose",
    "vsplit",
    "vstack",
    "where",
]


# ------------------------------------------------------------------ shapes
@symbolic_op("reshape")
def reshape(x: Any, newshape: Any) -> torch.Tensor:
    """`x` with shape `newshape` (one entry may be -1)."""
    return convert(x).reshape(shape_tuple(newshape))


@symbolic_op("transpose")
def transpose(x: Any, axes: Any = None) -> torch.Tensor:
    """Permute the axes (reverse them when `axes` is None)."""
    t = convert(x)
    order = tuple(reversed(range(t.ndim))) if axes is None else tuple(axes)
    return t.permute(order)


@symbolic_op("expand_dims")
def expand_dims(x: Any, axis: Any) -> torch.Tensor:
    """Insert size-1 axes at `axis` (an int or a tuple)."""
    t = convert(x)
    dims = axes(axis) or ()
    out_ndim = t.ndim + len(dims)
    for d in sorted(d % out_ndim for d in dims):
        t = t.unsqueeze(d)
    return t


@symbolic_op("squeeze")
def squeeze(x: Any, axis: Any = None) -> torch.Tensor:
    """Remove size-1 axes (all of them when `axis` is None)."""
    t = convert(x)
    dims = axes(axis)
    return t.squeeze() if dims is None else t.squeeze(dims)


@symbolic_op("concatenate")
def concatenate(xs: Any, axis: int = 0) -> torch.Tensor:
    """Join tensors along an existing `axis`."""
    return torch.cat(common(*xs), dim=axis)


@symbolic_op("stack")
def stack(x: Any, axis: int = 0) -> torch.Tensor:
    """Join tensors along a new `axis`."""
    return torch.stack(common(*x), dim=axis)


@symbolic_op("hstack")
def hstack(xs: Any) -> torch.Tensor:
    """Stack horizontally (axis 1; axis 0 for 1-D tensors)."""
    return torch.hstack(common(*xs))


@symbolic_op("vstack")
def vstack(xs: Any) -> torch.Tensor:
    """Stack vertically (axis 0, 1-D tensors as rows)."""
    return torch.vstack(common(*xs))


@symbolic_op("dstack")
def dstack(xs: Any) -> torch.Tensor:
    """Stack along the third axis."""
    return torch.dstack(common(*xs))


@symbolic_op("append")
def append(x1: Any, x2: Any, axis: int | None = None) -> torch.Tensor:
    """`x2` appended to `x1` along `axis` (both flattened when None)."""
    a, b = common(x1, x2)
    if axis is None:
        return torch.cat([a.reshape(-1), b.reshape(-1)])
    return torch.cat([a, b], dim=axis)


def _split(
    t: torch.Tensor, indices_or_sections: Any, axis: int, even: bool
) -> list[torch.Tensor]:
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if even and t.shape[axis] % n:
            raise ValueError(
                f"ops.split: expected axis {axis} of size {t.shape[axis]} to divide into "
                f"{n} equal parts, got indices_or_sections={n}."
            )
        return list(torch.tensor_split(t, n, dim=axis))
    return list(torch.tensor_split(t, [int(i) for i in indices_or_sections], dim=axis))


@symbolic_op("split")
def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[torch.Tensor]:
    """Split into equal sections, or at the given indices, along `axis`."""
    return _split(convert(x), indices_or_sections, axis, even=True)


@symbolic_op("array_split")
def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[torch.Tensor]:
    """Like `split`, sections may differ in size by one."""
    return _split(convert(x), indices_or_sections, axis, even=False)


@symbolic_op("hsplit")
def hsplit(x: Any, indices_or_sections: Any) -> list[torch.Tensor]:
    """`split` along axis 1 (axis 0 for 1-D)."""
    t = convert(x)
    return _split(t, indices_or_sections, 1 if t.ndim > 1 else 0, even=True)


@symbolic_op("vsplit")
def vsplit(x: Any, indices_or_sections: Any) -> list[torch.Tensor]:
    """`split` along axis 0."""
    return _split(convert(x), indices_or_sections, 0, even=True)


@symbolic_op("dsplit")
def dsplit(x: Any, indices_or_sections: Any) -> list[torch.Tensor]:
    """`split` along axis 2."""
    return _split(convert(x), indices_or_sections, 2, even=True)


@symbolic_op("tile")
def tile(x: Any, repeats: Any) -> torch.Tensor:
    """Repeat the whole tensor `repeats` times along each axis."""
    return torch.tile(convert(x), shape_tuple(repeats))


@symbolic_op("repeat")
def repeat(x: Any, repeats: Any, axis: int | None = None) -> torch.Tensor:
    """Repeat each element `repeats` times along `axis` (flattened when None)."""
    t = convert(x)
    if isinstance(repeats, (int, np.integer)):
        return torch.repeat_interleave(t, int(repeats), dim=axis)
    return torch.repeat_interleave(t, convert(repeats).to(t.device), dim=axis)


@symbolic_op("flip")
def flip(x: Any, axis: Any = None) -> torch.Tensor:
    """Reverse the order along `axis` (all axes when None)."""
    t = convert(x)
    dims = axes(axis)
    return torch.flip(t, tuple(range(t.ndim)) if dims is None else dims)


@symbolic_op("fliplr")
def fliplr(x: Any) -> torch.Tensor:
    """Reverse axis 1."""
    return torch.fliplr(convert(x))


@symbolic_op("flipud")
def flipud(x: Any) -> torch.Tensor:
    """Reverse axis 0."""
    return torch.flipud(convert(x))


@symbolic_op("roll")
def roll(x: Any, shift: Any, axis: Any = None) -> torch.Tensor:
    """Shift elements cyclically along `axis` (flattened when None)."""
    t = convert(x)
    dims = axes(axis)
    if dims is None:
        return torch.roll(t.reshape(-1), shift).reshape(t.shape)
    return torch.roll(t, shift, dims)


@symbolic_op("rot90")
def rot90(array: Any, k: int = 1, axes: Any = (0, 1)) -> torch.Tensor:
    """Rotate by 90 degrees `k` times in the plane of `axes`."""
    return torch.rot90(convert(array), k, tuple(axes))


@symbolic_op("moveaxis")
def moveaxis(x: Any, source: Any, destination: Any) -> torch.Tensor:
    """Move axes `source` to positions `destination`."""
    return torch.movedim(convert(x), source, destination)


@symbolic_op("swapaxes")
def swapaxes(x: Any, axis1: int, axis2: int) -> torch.Tensor:
    """Swap two axes."""
    return torch.swapaxes(convert(x), axis1, axis2)


@symbolic_op("broadcast_to")
def broadcast_to(x: Any, shape: Any) -> torch.Tensor:
    """`x` broadcast to `shape`."""
    return torch.broadcast_to(convert(x), shape_tuple(shape))


@symbolic_op("ravel")
def ravel(x: Any) -> torch.Tensor:
    """`x` flattened to 1-D."""
    return convert(x).reshape(-1)


@symbolic_op("copy")
def copy(x: Any) -> torch.Tensor:
    """A copy of `x`."""
    return convert(x).clone()


@symbolic_op("ndim")
def ndim(x: Any) -> int:
    """Number of axes."""
    return convert(x).ndim


@symbolic_op("size")
def size(x: Any) -> int:
    """Number of elements."""
    return convert(x).numel()


def _pad_symmetric(t: torch.Tensor, widths: np.ndarray) -> torch.Tensor:
    """NumPy's `symmetric` padding: mirror images that repeat the edge entries."""
    for axis, (before, after) in enumerate(widths):
        n = t.shape[axis]
        head = t.narrow(axis, 0, int(before)).flip(axis)
        tail = t.narrow(axis, n - int(after), int(after)).flip(axis)
        t = torch.cat([head, t, tail], dim=axis)
    return t


@symbolic_op("pad")
def pad(
    x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None
) -> torch.Tensor:
    """Pad with `pad_width` (`((before, after), ...)` per axis, or one pair for all)."""
    t = convert(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (t.ndim, 2))
    flat = [int(v) for pair in widths[::-1] for v in pair]  # torch: last axis first
    if mode == "constant":
        return torch.nn.functional.pad(t, flat, value=constant_values or 0)
    if mode == "symmetric" and constant_values is None:
        return _pad_symmetric(t, widths)
    torch_mode = {
        "reflect": "reflect",
        "edge": "replicate",
        "wrap": "circular",
        "symmetric": None,
    }[mode]
    if torch_mode is None or constant_values is not None:
        raise ValueError(
            f"ops.pad: expected mode 'constant', 'reflect', 'edge' or 'wrap', got mode={mode!r}."
        )
    # torch pads the trailing axes of a batched tensor; add two leading axes.
    lead = builtins.max(0, len(flat) // 2 + 2 - t.ndim)
    out = torch.nn.functional.pad(
        to_float(t).reshape((1,) * lead + tuple(t.shape)), flat, mode=torch_mode
    )
    return out.reshape(out.shape[lead:]).to(t.dtype)


# ------------------------------------------------------------------ selection
@symbolic_op("where")
def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    """`x1` where `condition` holds, else `x2`; with one argument, `nonzero`."""
    c = convert(condition).bool()
    if x1 is None and x2 is None:
        return nonzero(c)
    a, b = common(x1, x2)
    return torch.where(c, a, b)


@symbolic_op("nonzero")
def nonzero(x: Any) -> tuple[torch.Tensor, ...]:
    """Indices of the non-zero entries, one int32 tensor per axis."""
    return tuple(i.to(torch.int32) for i in torch.nonzero(convert(x), as_tuple=True))


@symbolic_op("clip")
def clip(x: Any, x_min: Any, x_max: Any) -> torch.Tensor:
    """`x` limited to `[x_min, x_max]`."""
    t = convert(x)
    if t.dtype == torch.bool:
        t = t.to(torch.int32)
    return torch.clamp(t, x_min, x_max)


def _indexed(x: Any, indices: Any, axis: int | None) -> tuple[Any, Any, int]:
    """`x`, `indices` as long, and `axis`; `x` flattened (axis 0) when `axis` is None."""
    t = convert(x)
    if axis is None:
        t, axis = t.reshape(-1), 0
    return t, convert(indices).to(torch.long), axis


@symbolic_op("take")
def take(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
    """Entries at `indices` along `axis` (of flattened `x` when None)."""
    t, idx, axis = _indexed(x, indices, axis)
    axis = axis % t.ndim
    idx = torch.where(idx < 0, idx + t.shape[axis], idx)
    out = torch.index_select(t, axis, idx.reshape(-1))
    return out.reshape((*t.shape[:axis], *idx.shape, *t.shape[axis + 1 :]))


@symbolic_op("take_along_axis")
def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
    """Entries at `indices` matched along `axis`."""
    t, idx, axis = _indexed(x, indices, axis)
    shape = list(
        torch.broadcast_shapes(
            (*t.shape[:axis], 1, *t.shape[axis + 1 :]),
            (*idx.shape[:axis], 1, *idx.shape[axis + 1 :]),
        )
    )
    t = t.expand([*shape[:axis], t.shape[axis], *shape[axis + 1 :]])
    idx = idx.expand([*shape[:axis], idx.shape[axis], *shape[axis + 1 :]])
    return torch.take_along_dim(t, idx, dim=axis)


@symbolic_op("sort")
def sort(x: Any, axis: int = -1) -> torch.Tensor:
    """Sorted ascending along `axis`."""
    return torch.sort(convert(x), dim=axis).values


@symbolic_op("argsort")
def argsort(x: Any, axis: int = -1) -> torch.Tensor:
    """Indices that sort `x` ascending along `axis` (int32)."""
    t = convert(x)
    if axis is None:
        t, axis = t.reshape(-1), 0
    return torch.argsort(t, dim=axis, stable=True).to(torch.int32)


@symbolic_op("searchsorted")
def searchsorted(sorted_sequence: Any, values: Any, side: str = "left") -> torch.Tensor:
    """Where `values` would be inserted into the 1-D `sorted_sequence` (int32)."""
    s, v = common(sorted_sequence, values)
    return torch.searchsorted(s, v, side=side).to(torch.int32)


@symbolic_op("digitize")
def digitize(x: Any, bins: Any) -> torch.Tensor:
    """Index of the bin of each value (NumPy's `digitize`, increasing bins)."""
    t, b = common(x, bins)
    return torch.bucketize(t, b, right=True).to(torch.int32)


@symbolic_op("isin")
def isin(
    x1: Any, x2: Any, assume_unique: bool = False, invert: bool = False
) -> torch.Tensor:
    """Whether each entry of `x1` occurs in `x2`."""
    a, b = common(x1, x2)
    return torch.isin(a, b, assume_unique=assume_unique, invert=invert)


@symbolic_op("bincount")
def bincount(
    x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False
) -> torch.Tensor:
    """Counts of each non-negative int value (weighted sums with `weights`)."""
    t = convert(x).to(torch.long)
    w = None if weights is None else convert(weights)
    if t.ndim == 2:  # Keras compat: a batch of 1-D counts
        length = builtins.max(minlength, int(t.max()) + 1 if t.numel() else 0)
        rows = [
            torch.bincount(r, None if w is None else w[i], minlength=length)
            for i, r in enumerate(t)
        ]
        return torch.stack(rows)
    out = torch.bincount(t, w, minlength=minlength)
    # Keras compat: counts are int32, weighted sums keep the weights' dtype.
    return out.to(torch.int32 if w is None else w.dtype)


@symbolic_op("select")
def select(condlist: Any, choicelist: Any, default: Any = 0) -> torch.Tensor:
    """The first choice whose condition holds, else `default`."""
    choices = common(*choicelist, default)
    out = choices[-1]
    for cond, choice in zip(reversed(list(condlist)), reversed(choices[:-1])):
        out = torch.where(convert(cond).bool(), choice, out)
    return out
