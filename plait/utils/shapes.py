"""Shape helpers: formatting and dtype names."""

from __future__ import annotations

from typing import Any

import torch

from plait.types import DTypeLike, Shape
from plait.utils.strings import STRING

__all__ = ["format_shape", "is_shape", "standardize_dtype", "standardize_shape"]

_DTYPES = {
    "float16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float": torch.float32,
    "float64": torch.float64,
    "double": torch.float64,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int": torch.int64,
    "int64": torch.int64,
    "bool": torch.bool,
    "complex64": torch.complex64,
    "string": STRING,  # host strings (plait/utils/strings.py)
    "str": STRING,
}


def standardize_dtype(
    dtype: DTypeLike, default: torch.dtype | None = None
) -> torch.dtype:
    """Map `'float32'`, `torch.float32`, `np.float32` or `None` to a torch dtype."""
    if dtype is None:
        return default if default is not None else torch.get_default_dtype()
    if isinstance(dtype, torch.dtype):
        return dtype
    name = getattr(dtype, "__name__", None) or str(dtype)
    name = name.replace("torch.", "")
    if name in _DTYPES:
        return _DTYPES[name]
    raise ValueError(
        f"expected a dtype such as 'float32', 'int32' or torch.float32, got {dtype!r}."
    )


def dtype_name(dtype: torch.dtype) -> str:
    """`torch.float32` -> `'float32'`."""
    return str(dtype).replace("torch.", "")


def standardize_shape(shape: Any, what: str) -> Shape:
    """Check a user shape (ints >= 0 or None) and return it as a tuple."""
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(
            f"{what}: expected a shape tuple such as (784,), got {shape!r}."
        )
    out: list[int | None] = []
    for d in shape:
        if d is None:
            out.append(None)
        elif (isinstance(d, int) and not isinstance(d, bool) and d >= 0) or (
            hasattr(d, "__index__") and not isinstance(d, bool) and int(d) >= 0
        ):
            out.append(int(d))
        else:
            raise ValueError(
                f"{what}: expected dimensions to be non-negative ints or None, "
                f"got shape {tuple(shape)!r}."
            )
    return tuple(out)


def is_shape(value: Any) -> bool:
    """Whether `value` is one shape (a list or tuple of ints and Nones), not a
    structure of shapes.

    Example:
        >>> is_shape((None, 3)), is_shape([None, 3]), is_shape([(None, 3)])
        (True, True, False)
    """
    return isinstance(value, (list, tuple)) and all(
        d is None or isinstance(d, int) for d in value
    )


def format_shape(shape: Any) -> str:
    """Render a shape (or a list of shapes) as Keras does: `(None, 32)`."""
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    if isinstance(shape, dict):
        return (
            "{" + ", ".join(f"{k!r}: {format_shape(v)}" for k, v in shape.items()) + "}"
        )
    if isinstance(shape, tuple):
        return (
            "("
            + ", ".join(str(d) for d in shape)
            + ("," if len(shape) == 1 else "")
            + ")"
        )
    return str(shape)
