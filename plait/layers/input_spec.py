"""`InputSpec`, the one function that raises "incompatible input" errors, and the
check that a layer call was given inputs at all."""

from __future__ import annotations

from typing import Any

import torch

from plait.types import Shape
from plait.utils.shapes import format_shape

__all__ = [
    "SYMBOLIC_INPUT",
    "InputSpec",
    "check_input_spec",
    "inputs_first",
    "known_last_axis",
]

# What a layer call takes in a graph (for error messages).
SYMBOLIC_INPUT = "a SymbolicTensor (from plait.Input() or another layer)"


class InputSpec:
    """What a layer accepts: rank, fixed axes, dtype.

    Args:
        dtype: Expected dtype, or None for any.
        shape: Full expected shape; `None` entries match anything.
        ndim: Exact rank.
        max_ndim: Largest rank accepted.
        min_ndim: Smallest rank accepted.
        axes: `{axis: size}` for axes whose size is fixed (after the first call).
        layout: How the dims are named in errors, e.g. `"(batch, rows, cols, channels)"`.
        allow_last_axis_squeeze: Accept a trailing 1 more or less than `ndim`.

    Example:
        >>> InputSpec(min_ndim=2, axes={-1: 64}).axes
        {-1: 64}
    """

    def __init__(
        self,
        dtype: torch.dtype | None = None,
        shape: Shape | None = None,
        ndim: int | None = None,
        max_ndim: int | None = None,
        min_ndim: int | None = None,
        axes: dict[int, int] | None = None,
        layout: str | None = None,
        allow_last_axis_squeeze: bool = False,
    ) -> None:
        self.dtype = dtype
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})
        self.layout = layout
        self.allow_last_axis_squeeze = allow_last_axis_squeeze

    def __repr__(self) -> str:
        fields = {
            k: v
            for k, v in vars(self).items()
            if v not in (None, {}, False) and k != "layout"
        }
        return "InputSpec(" + ", ".join(f"{k}={v!r}" for k, v in fields.items()) + ")"


def _dims(n: int) -> str:
    return f"{n} dim" if n == 1 else f"{n} dims"


def _check_one(
    where: str, spec: InputSpec, shape: Shape, dtype: Any, label: str
) -> None:
    ndim = len(shape)
    got = f"got shape {format_shape(shape)}."
    layout = f" {spec.layout}" if spec.layout else ""
    if spec.ndim is not None and ndim != spec.ndim:
        squeezable = spec.allow_last_axis_squeeze and abs(ndim - spec.ndim) == 1
        if not squeezable:
            raise ValueError(
                f"{where}: expected {label} with {_dims(spec.ndim)}{layout}, {got}"
            )
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise ValueError(
            f"{where}: expected {label} with at least {_dims(spec.min_ndim)}"
            f"{layout}, {got}"
        )
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise ValueError(
            f"{where}: expected {label} with at most {_dims(spec.max_ndim)}{layout}, {got}"
        )
    for axis, size in spec.axes.items():
        if size is None:
            continue
        if (axis >= ndim) or (axis < -ndim):
            raise ValueError(
                f"{where}: expected {label} with an axis {axis} of size {size}, {got}"
            )
        actual = shape[axis]
        if actual is not None and actual != size:
            name = "last axis" if axis == -1 else f"axis {axis}"
            raise ValueError(
                f"{where}: expected {label} {name} {size} (from its first call), {got}"
            )
    if spec.shape is not None:
        for want, have in zip(spec.shape, shape):
            if want is not None and have is not None and want != have:
                raise ValueError(
                    f"{where}: expected {label} of shape {format_shape(spec.shape)}, {got}"
                )
    if spec.dtype is not None and dtype is not None and dtype != spec.dtype:
        raise ValueError(
            f"{where}: expected {label} of dtype {spec.dtype}, got {dtype}."
        )


def check_input_spec(
    where: str,
    spec: InputSpec | list[InputSpec] | None,
    shapes: list[Shape],
    dtypes: list[Any],
) -> None:
    """Raise a ValueError if the inputs do not match `spec`.

    Args:
        where: The layer as errors name it: `"Dense layer 'dense_2'"`.
        spec: One spec (one input) or a list (one per input).
        shapes: The shape of each input tensor.
        dtypes: The dtype of each input tensor.
    """
    if spec is None:
        return
    specs = spec if isinstance(spec, list) else [spec]
    if len(specs) != len(shapes):
        raise ValueError(
            f"{where}: expected {len(specs)} input tensor"
            f"{'s' if len(specs) != 1 else ''}, got {len(shapes)} "
            f"(shapes {format_shape(list(shapes))})."
        )
    for i, (s, shape, dtype) in enumerate(zip(specs, shapes, dtypes)):
        if s is None:
            continue
        label = "input" if len(specs) == 1 else f"input {i}"
        _check_one(where, s, shape, dtype, label)


def inputs_first(
    layer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
    """A layer call's `args` with its inputs first (moved from `inputs=`).

    Raises:
        TypeError: when no inputs, or None, were given, naming the layer.

    Example:
        >>> inputs_first(None, (), {"inputs": 1})
        (1,)
    """
    if not args and "inputs" in kwargs:
        args = (kwargs.pop("inputs"),)
    if not args or args[0] is None:
        got = "None" if args else "no inputs"
        raise TypeError(
            f"{layer._where()}: expected `inputs` (the first argument) to be "
            f"{SYMBOLIC_INPUT} or a tensor, got {got}."
        )
    return args


def known_last_axis(where: str, input_shape: Any) -> int:
    """The size of the features axis of `input_shape`; a ValueError if unknown."""
    in_dim = input_shape[-1]
    if in_dim is None:
        raise ValueError(
            f"{where}: expected the input's last axis to be known, got shape "
            f"{tuple(input_shape)}."
        )
    return int(in_dim)
