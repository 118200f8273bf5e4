"""Core ops of `plait.ops`: conversion, casting, control flow, slicing, scatter."""

# Keras's op names (map, slice) shadow builtins on purpose.
# ruff: noqa: A001

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from plait.graph.symbolic import SymbolicTensor
from plait.layers.ops import Operator, symbolic_op
from plait.ops._tensor import as_dtype, common, convert, shape_tuple
from plait.utils import tree

__all__ = [
    "associative_scan", "cast", "cond", "convert_to_numpy", "convert_to_tensor",
    "dtype", "fori_loop", "get_item", "is_tensor", "map", "saturate_cast", "scan",
    "scatter", "scatter_update", "shape", "slice", "slice_update", "stop_gradient",
    "switch", "unstack", "vectorized_map", "while_loop",
]  # fmt: skip


def convert_to_tensor(
    x: Any, dtype: Any = None, sparse: Any = None, ragged: Any = None
) -> Any:
    """`x` (NumPy array, number, nested list, tensor) as a torch tensor.

    Python ints become int32 and floats floatx, as in Keras; NumPy arrays keep
    their dtype. A symbolic tensor is returned as is (cast when `dtype` is given).

    Example:
        >>> from plait import ops
        >>> ops.convert_to_tensor([1, 2]).dtype
        torch.int32
    """
    if isinstance(x, SymbolicTensor):
        return x if dtype is None else cast(x, dtype)
    return convert(x, dtype)


def convert_to_numpy(x: Any) -> np.ndarray:
    """`x` as a NumPy array (copied to the CPU, detached from autograd)."""
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
        return (t.float() if t.dtype == torch.bfloat16 else t).numpy()
    if isinstance(x, SymbolicTensor):
        x.numpy()  # raises the "symbolic tensor holds no value" error
    return np.asarray(x)


def is_tensor(x: Any) -> bool:
    """Whether `x` is a torch tensor (or a symbolic one)."""
    return isinstance(x, (torch.Tensor, SymbolicTensor))


def shape(x: Any) -> tuple[int | None, ...]:
    """The shape as a tuple; `None` for the unknown dims of a symbolic tensor."""
    if isinstance(x, SymbolicTensor):
        return x.shape
    return tuple(convert(x).shape)


def dtype(x: Any) -> str:
    """The dtype's name (`"float32"`)."""
    found = (
        x.dtype if isinstance(x, (torch.Tensor, SymbolicTensor)) else convert(x).dtype
    )
    return str(found).replace("torch.", "")


@symbolic_op("cast")
def cast(x: Any, dtype: Any) -> torch.Tensor:
    """`x` converted to `dtype`."""
    return convert(x).to(as_dtype(dtype))  # type: ignore[arg-type]


@symbolic_op("saturate_cast")
def saturate_cast(x: Any, dtype: Any) -> torch.Tensor:
    """`cast`, first clipping to the range of `dtype`."""
    t = convert(x)
    target: torch.dtype = as_dtype(dtype)  # type: ignore[assignment]
    info = torch.finfo(target) if target.is_floating_point else torch.iinfo(target)
    if not t.is_complex() and t.dtype != torch.bool:
        t = torch.clamp(
            t.double() if target.is_floating_point else t, info.min, info.max
        )
    return t.to(target)


@symbolic_op("stop_gradient")
def stop_gradient(variable: Any) -> torch.Tensor:
    """The same values, with no gradient flowing back."""
    return convert(variable).detach()


def get_item(x: Any, key: Any) -> Any:
    """`x[key]`."""
    if isinstance(x, SymbolicTensor):
        return Operator("getitem", key)(x)
    return convert(x)[key]


@symbolic_op("slice")
def slice(inputs: Any, start_indices: Any, shape: Any) -> torch.Tensor:
    """The block of size `shape` starting at `start_indices`."""
    t = convert(inputs)
    starts = [int(s) for s in start_indices]
    index = tuple(builtins.slice(s, s + n) for s, n in zip(starts, shape_tuple(shape)))
    return t[index]


@symbolic_op("slice_update")
def slice_update(inputs: Any, start_indices: Any, updates: Any) -> torch.Tensor:
    """A copy of `inputs` with the block at `start_indices` replaced by `updates`."""
    t = convert(inputs)
    u = convert(updates).to(t.dtype)  # Keras compat: the result keeps inputs' dtype
    out = t.clone()
    starts = [int(s) for s in start_indices]
    index = tuple(builtins.slice(s, s + n) for s, n in zip(starts, u.shape))
    out[index] = u
    return out


@symbolic_op("scatter")
def scatter(indices: Any, values: Any, shape: Any) -> torch.Tensor:
    """A zero tensor of `shape` with `values` added at `indices` (`(n, depth)`)."""
    v = convert(values)
    out = torch.zeros(shape_tuple(shape), dtype=v.dtype, device=v.device)
    idx = convert(indices).to(torch.long)
    out.index_put_(
        tuple(idx.reshape(-1, idx.shape[-1]).T),
        v.reshape(-1, *out.shape[idx.shape[-1] :]),
        accumulate=True,
    )
    return out


@symbolic_op("scatter_update")
def scatter_update(
    inputs: Any, indices: Any, updates: Any, reduction: str | None = None
) -> torch.Tensor:
    """A copy of `inputs` with the entries at `indices` set to (or combined with) `updates`."""
    t, u = common(inputs, updates)
    out = t.clone()
    idx = convert(indices).to(torch.long)
    key = tuple(idx.reshape(-1, idx.shape[-1]).T)
    u = u.reshape(-1, *out.shape[idx.shape[-1] :])
    if reduction is None:
        out[key] = u
    elif reduction == "add":
        out.index_put_(key, u, accumulate=True)
    else:
        torch_reduce = {"mul": "prod", "max": "amax", "min": "amin"}[reduction]
        flat = out.reshape(-1, *out.shape[idx.shape[-1] :])
        strides = torch.tensor(
            [
                int(np.prod(out.shape[i + 1 : idx.shape[-1]]))
                for i in range(idx.shape[-1])
            ],
            device=idx.device,
        )
        rows = (idx.reshape(-1, idx.shape[-1]) * strides).sum(-1)
        rows = rows.reshape(-1, *([1] * (u.ndim - 1))).expand_as(u)
        flat.scatter_reduce_(0, rows, u, reduce=torch_reduce)
        out = flat.reshape(out.shape)
    return out


@symbolic_op("unstack")
def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[torch.Tensor]:
    """The slices of `x` along `axis`, as a list."""
    return list(torch.unbind(convert(x), dim=axis))


# ------------------------------------------------------------------ control flow
def _row(xs: Any, i: int) -> Any:
    """Entry `i` of each leaf of `xs`."""
    return tree.map_structure(functools.partial(_select, axis=0, i=i), xs)


def _select(t: Any, axis: int, i: int) -> Any:
    return torch.select(convert(t), axis, i)


def _stack(items: list[Any], axis: int = 0) -> Any:
    """Structures of equal layout stacked leaf by leaf along `axis`."""
    columns = zip(*(tree.flatten(item) for item in items))
    stacked = [
        torch.stack([convert(v) for v in column], dim=axis) for column in columns
    ]
    return tree.pack_like(items[0], stacked)


# Their arguments are Python functions, which a saved model never holds: given
# symbolic tensors where a value decides the control flow (or the loop runs over
# an axis of unknown length), they raise at graph construction. `fori_loop` with
# int bounds and `while_loop` with a condition on Python values unroll into the
# graph.
def _eager(op: str, **arguments: Any) -> None:
    """Raise if any of `arguments` holds a symbolic tensor."""
    for name, value in arguments.items():
        if any(isinstance(v, SymbolicTensor) for v in tree.flatten(value)):
            raise ValueError(
                f"ops.{op}: expected tensors with values as {name}, got a symbolic "
                "tensor; control flow over Python functions is not recorded in a "
                "functional model. Call it inside a custom layer's call() (or use "
                "ops.where for a choice between tensors)."
            )


def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    """`true_fn()` if `pred` else `false_fn()`."""
    _eager("cond", pred=pred)
    return true_fn() if bool(convert(pred)) else false_fn()


def switch(index: Any, branches: list[Callable[..., Any]], *operands: Any) -> Any:
    """`branches[index](*operands)`, `index` clipped to the valid range."""
    _eager("switch", index=index)
    i = builtins.min(builtins.max(int(convert(index)), 0), len(branches) - 1)
    return branches[i](*operands)


def fori_loop(
    lower: int, upper: int, body_fun: Callable[[Any, Any], Any], init_val: Any
) -> Any:
    """`val = body_fun(i, val)` for `i` in `range(lower, upper)`; returns `val`."""
    _eager("fori_loop", lower=lower, upper=upper)
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def while_loop(
    cond: Callable[..., Any],
    body: Callable[..., Any],
    loop_vars: Any,
    maximum_iterations: int | None = None,
) -> Any:
    """Apply `body` to `loop_vars` while `cond(*loop_vars)` holds."""
    single = not isinstance(loop_vars, (list, tuple))
    # Keras compat: Python numbers among the loop variables become tensors.
    state = tuple(
        convert(v) if isinstance(v, (int, float, bool)) else v
        for v in ((loop_vars,) if single else loop_vars)
    )
    steps = 0
    while _condition(cond(*state)) and (
        maximum_iterations is None or steps < maximum_iterations
    ):
        out = body(*state)
        state = (out,) if single else tuple(out)
        steps += 1
    return state[0] if single else type(loop_vars)(state)


def _condition(value: Any) -> bool:
    _eager("while_loop", cond=value)
    return bool(value)


def scan(
    f: Callable[[Any, Any], Any],
    init: Any,
    xs: Any = None,
    length: int | None = None,
    reverse: bool = False,
    unroll: int = 1,
) -> tuple[Any, Any]:
    """JAX's `scan`: `carry, y = f(carry, x)` over the leading axis of `xs`.

    Returns the final carry and the stacked `y`s.
    """
    _eager("scan", init=init, xs=xs)
    n = int(length or 0) if xs is None else len(tree.flatten(xs)[0])
    steps = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, []
    for i in steps:
        x = None if xs is None else _row(xs, i)
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        return carry, None
    return carry, _stack(ys)


def associative_scan(
    f: Callable[[Any, Any], Any], elems: Any, reverse: bool = False, axis: int = 0
) -> Any:
    """Inclusive prefix combination of `elems` along `axis` with the associative `f`."""
    _eager("associative_scan", elems=elems)
    leaves = tree.flatten(elems)
    n = leaves[0].shape[axis]
    order = range(n - 1, -1, -1) if reverse else range(n)
    outs: list[Any] = []
    acc = None
    for i in order:
        x = tree.map_structure(functools.partial(_select, axis=axis, i=i), elems)
        acc = x if acc is None else f(acc, x)
        outs.append(acc)
    if reverse:
        outs.reverse()
    return _stack(outs, axis)


def map(f: Callable[[Any], Any], xs: Any) -> Any:
    """`f` applied to each slice of `xs` along axis 0, results stacked."""
    _eager("map", xs=xs)
    n = len(tree.flatten(xs)[0])
    ys = [f(_row(xs, i)) for i in range(n)]
    return _stack(ys)


def vectorized_map(function: Callable[[Any], Any], elements: Any) -> Any:
    """`function` over the leading axis of `elements` (`torch.vmap` where it can)."""
    _eager("vectorized_map", elements=elements)
    try:
        return torch.vmap(function)(elements)
    except (RuntimeError, ValueError):
        return map(function, elements)
