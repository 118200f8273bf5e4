"""Running layers under their dtype policies: `torch.autocast` plus input casts.

A layer whose policy computes in float16 or bfloat16 (`mixed_float16`,
`mixed_bfloat16`, `float16`, `bfloat16`) runs inside `torch.autocast` with
that dtype, so its float32 weights are cast on the fly by torch's kernels
(matmuls and convolutions in half precision, reductions such as softmax kept
in float32 where torch keeps them); its floating inputs are cast to the
compute dtype on the way in and its floating outputs on the way out, so every
layer's outputs carry its compute dtype, as in Keras.

A model's forward program opens one autocast region for the whole graph (the
compute dtype of its first half-precision layer) rather than one per layer.
Inside such a region, a layer whose policy computes in float32 (the usual
`Activation("softmax", dtype="float32")` at the end of a mixed model) runs
with autocast disabled and its half-precision inputs cast up, so its output
is float32. A region plait did not open (a user's own `torch.autocast`)
is left alone: float32 layers then follow torch's autocast rules.

Where torch has no autocast (the `meta` device used for shape inference)
the layer runs in its variable dtype and its outputs are cast to the compute
dtype, which gives the same dtypes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from plait.utils import tree

__all__ = [
    "HALF",
    "LayerCall",
    "Region",
    "cast_floats",
    "float32_outputs",
    "needs_cast",
    "run_layer",
]

HALF = (torch.float16, torch.bfloat16)

# Depth of the autocast regions plait opened (not a user's own `torch.autocast`).
_DEPTH = [0]


def needs_cast(compute: torch.dtype, dtype: torch.dtype) -> bool:
    """Whether a `dtype` input goes into a layer computing in `compute` cast.

    Floats move to a half-precision compute dtype, and half-precision floats
    to any floating compute dtype; float64 inputs of float32 layers stay as
    they are (plait's behaviour without mixed precision).
    """
    return (
        dtype != compute
        and dtype.is_floating_point
        and compute.is_floating_point
        and (compute in HALF or dtype in HALF)
    )


def cast_floats(x: Any, dtype: torch.dtype) -> Any:
    """`x` (a tensor or a structure of them) with the floats that need it cast."""
    if isinstance(x, torch.Tensor):
        return x.to(dtype) if needs_cast(dtype, x.dtype) else x
    if isinstance(x, (list, tuple, dict)):
        return tree.map_structure(lambda t: cast_floats(t, dtype), x)
    return x


def _device_type(values: Any) -> str | None:
    """The device type of the first tensor in `values` if torch autocasts there."""
    for t in tree.flatten(values):
        if isinstance(t, torch.Tensor):
            kind = t.device.type
            return kind if torch.amp.is_autocast_available(kind) else None
    return None


def _active(device: str, dtype: torch.dtype) -> bool:
    return (
        torch.is_autocast_enabled(device) and torch.get_autocast_dtype(device) == dtype
    )


def in_region() -> bool:
    """Whether a region opened by plait is running (float32 layers then opt out)."""
    return _DEPTH[0] > 0


def _in_autocast(
    device: str, dtype: torch.dtype, fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """`fn(*args, **kwargs)` in an autocast region plait opens (counted)."""
    _DEPTH[0] += 1
    try:
        with torch.autocast(device, dtype=dtype):
            return fn(*args, **kwargs)
    finally:
        _DEPTH[0] -= 1


def run_layer(
    compute: torch.dtype,
    variable: torch.dtype,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    cast_out: bool = True,
) -> Any:
    """`fn(*args, **kwargs)` for a layer computing in `compute` (weights in `variable`).

    `cast_out=False` leaves the outputs as computed (a model: its own layers
    decided their dtypes, e.g. a float32 softmax at the end).
    """
    half = compute in HALF
    cast_back = half and cast_out
    device = _device_type(args)
    if device is None:  # no autocast here (meta): compute in the weights' dtype
        args = cast_floats(args, variable)
        out = fn(*args, **kwargs)
        return cast_floats(out, compute) if cast_back else out
    args = cast_floats(args, compute)
    if half and not _active(device, compute):
        out = _in_autocast(device, compute, fn, *args, **kwargs)
    elif not half and in_region() and torch.is_autocast_enabled(device):
        with torch.autocast(device, enabled=False):
            out = fn(*args, **kwargs)
    else:
        out = fn(*args, **kwargs)
    return cast_floats(out, compute) if cast_back else out


class LayerCall:
    """A layer's function as a mixed model's program calls it (see `run_layer`)."""

    def __init__(self, layer: Any, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.compute = layer._compute_dtype
        self.variable = layer._variable_dtype
        self.cast_out = not hasattr(layer, "fit")  # a model's outputs stay as computed
        self.__name__ = getattr(fn, "__name__", "call")
        self.__module__ = getattr(fn, "__module__", __name__)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return run_layer(
            self.compute, self.variable, self.fn, args, kwargs, self.cast_out
        )


class Region:
    """A mixed model's forward program, run inside one autocast region."""

    def __init__(self, forward: Callable[..., Any], dtype: torch.dtype) -> None:
        self.forward = forward
        self.dtype = dtype

    def __call__(self, *args: Any) -> Any:
        device = _device_type(args)
        if device is None or _active(device, self.dtype):
            return self.forward(*args)
        return _in_autocast(device, self.dtype, self.forward, *args)


def region_dtype(layers: list[Any]) -> torch.dtype | None:
    """The compute dtype of the first half-precision layer (None: no region)."""
    for layer in layers:
        dtype = getattr(layer, "_compute_dtype", None)
        if dtype in HALF:
            return dtype  # type: ignore[no-any-return]
    return None


def wrap_call(layer: Any, fn: Callable[..., Any]) -> Any:
    """`fn` as a mixed model's program calls it (unchanged for non-float layers)."""
    compute = getattr(layer, "_compute_dtype", None)
    if compute is None or not compute.is_floating_point:
        return fn
    return LayerCall(layer, fn)


def float32_outputs(outputs: list[Any]) -> list[Any]:
    """Half-precision outputs as float32 (losses and metrics compute in float32)."""
    return [
        o.float() if isinstance(o, torch.Tensor) and o.dtype in HALF else o
        for o in outputs
    ]
