"""Shared helpers of `plait.ops`: Keras's tensor conversion, dtypes and axes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from plait.graph.inference import creation_device
from plait.layers.ops import symbolic_op
from plait.utils import settings

__all__ = [
    "as_dtype",
    "axes",
    "common",
    "config",
    "convert",
    "device",
    "float_op",
    "floatx",
    "missing",
    "shape_tuple",
    "to_float",
]

# Settings `plait.backend` can change (Keras's `set_epsilon`, `set_image_data_format`).
config = settings.config

_NAMES = {"float": "float32", "int": "int32", "double": "float64", "half": "float16"}


def floatx() -> torch.dtype:
    """Keras's `floatx`: torch's default floating dtype (float32 unless changed)."""
    return torch.get_default_dtype()


def as_dtype(dtype: Any) -> torch.dtype | None:
    """`"float32"`, `np.float32`, `np.dtype("int8")` or `torch.int8` as a torch dtype."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    name = getattr(dtype, "__name__", None) or str(dtype)
    name = name.replace("torch.", "")
    name = _NAMES.get(name, name)
    found = getattr(torch, name, None)
    if isinstance(found, torch.dtype):
        return found
    raise ValueError(
        f"expected a dtype such as 'float32', 'int32' or torch.float32, got {dtype!r}."
    )


def device() -> torch.device | None:
    """Where new tensors go: `meta` during shape inference, else torch's default."""
    return creation_device()


def _contiguous(x: Any) -> np.ndarray:
    # Not np.ascontiguousarray: it turns 0-d arrays into 1-d ones.
    array = np.asarray(x)
    return array if array.flags.c_contiguous else array.copy(order="C")


def _from_python(x: Any) -> torch.Tensor:
    # Keras compat: Python ints become int32 and floats floatx, not int64/float64.
    array = np.asarray(x)
    if array.dtype == np.float64:
        array = array.astype(np.float32 if floatx() == torch.float32 else np.float64)
    elif array.dtype == np.int64:
        array = array.astype(np.int32)
    tensor = torch.from_numpy(_contiguous(array))
    return tensor.to(floatx()) if tensor.is_floating_point() else tensor


def convert(x: Any, dtype: Any = None) -> torch.Tensor:
    """`x` (tensor, NumPy array, number, nested list) as a torch tensor of `dtype`."""
    target = as_dtype(dtype)
    if isinstance(x, torch.Tensor):
        tensor = x
    elif isinstance(x, (np.ndarray, np.generic)):
        tensor = torch.from_numpy(_contiguous(x))
    elif isinstance(x, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in x):
        tensor = torch.stack([convert(v) for v in x])
    elif hasattr(x, "__array__") and not isinstance(x, (list, tuple)):
        tensor = torch.from_numpy(_contiguous(np.asarray(x)))
    else:
        tensor = _from_python(x)
    where = device()
    if where is not None and tensor.device != where:
        tensor = tensor.to(where)
    if target is not None and tensor.dtype != target:
        tensor = tensor.to(target)
    return tensor


def to_float(x: torch.Tensor) -> torch.Tensor:
    """`x` itself when floating (or complex), else cast to floatx (Keras's rule)."""
    if x.is_floating_point() or x.is_complex():
        return x
    return x.to(floatx())


def _is_scalar(x: Any) -> bool:
    return isinstance(x, (int, float, bool)) and not isinstance(x, np.generic)


def common(*xs: Any) -> list[Any]:
    """Tensors promoted to one dtype; Python numbers stay weak (Keras/JAX rule).

    `int32 tensor + 1.5` is float32, `float16 tensor + 2.0` float16; two tensors
    promote as torch (and Keras) do: `int8 + uint8 -> int16`, `int32 + float32
    -> float32`.
    """
    tensors = [x if _is_scalar(x) else convert(x) for x in xs]
    dtype: torch.dtype | None = None
    for t in tensors:
        if isinstance(t, torch.Tensor):
            dtype = t.dtype if dtype is None else torch.promote_types(dtype, t.dtype)
    if dtype is None:  # numbers only
        return [convert(t) for t in tensors]
    for t in tensors:
        if not isinstance(t, torch.Tensor):
            dtype = torch.result_type(torch.empty((), dtype=dtype), t)
    return [
        t.to(dtype)
        if isinstance(t, torch.Tensor)
        else torch.tensor(t, dtype=dtype, device=tensors_device(tensors))
        for t in tensors
    ]


def tensors_device(tensors: Sequence[Any]) -> torch.device | None:
    """The device of the first tensor among `tensors` (None when there is none)."""
    for t in tensors:
        if isinstance(t, torch.Tensor):
            return t.device
    return None


def axes(axis: Any) -> tuple[int, ...] | None:
    """A Keras `axis` (None, int or sequence) as None or a tuple of ints."""
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        return tuple(int(a) for a in axis)
    return (int(axis),)


def shape_tuple(shape: Any) -> tuple[int, ...]:
    """A shape given as an int or a sequence of ints as a tuple of ints."""
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def float_op(
    name: str, fn: Callable[[torch.Tensor], torch.Tensor], doc: str
) -> Callable[..., torch.Tensor]:
    """The symbolic-aware op `name(x) = fn(x as a float tensor)`."""

    def op(x: Any) -> torch.Tensor:
        return fn(to_float(convert(x)))

    return named_op(op, name, doc)


def named_op(fn: Callable[..., Any], name: str, doc: str) -> Callable[..., Any]:
    """`fn` named `name` with docstring `doc`, as the symbolic-aware op `name`."""
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return symbolic_op(name)(fn)


def missing(module: str, not_provided: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` whose error names an op Keras has and plait lacks, and why."""

    def __getattr__(name: str) -> Any:
        if name in not_provided:
            raise AttributeError(
                f"{module}.{name} is not provided: {not_provided[name]}."
            )
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
