"""Output specs by running code on torch's `meta` device: shapes, dtypes, no compute.

A symbolic dimension (`None`) is filled with 83 in one run and 89 in a second;
output dimensions that differ between the runs stay `None` (Keras's trick,
`backend/torch/core.py` `compute_output_spec`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import torch

from plait.graph.symbolic import SymbolicTensor
from plait.types import Shape
from plait.utils import tree
from plait.utils.scoped import thread_value

__all__ = [
    "TensorSpec",
    "creation_device",
    "deferred_weights",
    "inferring",
    "meta_spec",
    "params_on_meta",
    "weights_deferred",
]

_FILLS = (83, 89)
_LOCAL = threading.local()


class TensorSpec:
    """Shape and dtype of one inferred output."""

    __slots__ = ("dtype", "shape")

    def __init__(self, shape: Shape, dtype: torch.dtype) -> None:
        self.shape = shape
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"TensorSpec({self.shape}, {self.dtype})"


@contextlib.contextmanager
def deferred_weights() -> Iterator[None]:
    """Within it, `Layer.add_weight` makes meta tensors and runs no initializer.

    Loading a model file builds the model this way: its weights take no memory
    until the file is known to hold every one of them, then they are made from
    the file's values (`plait.saving.weights`).
    """
    with thread_value(_LOCAL, "deferred", True, default=False):
        yield


def weights_deferred() -> bool:
    """Whether new weights are to be meta tensors (see `deferred_weights`)."""
    return bool(getattr(_LOCAL, "deferred", False))


def creation_device() -> torch.device | None:
    """The device for tensors that ops create from nothing (`ops.zeros(shape)`).

    `meta` while `meta_spec` runs a layer's `call` for shape inference, so such
    tensors meet the meta inputs there; None (torch's default device) otherwise.
    """
    return getattr(_LOCAL, "device", None)


def inferring() -> bool:
    """Whether a layer's shape inference (`meta_spec`) is running on this thread."""
    device = creation_device()
    return device is not None and device.type == "meta"


@contextlib.contextmanager
def params_on_meta(module: torch.nn.Module) -> Iterator[None]:
    """Temporarily swap every parameter and buffer of `module` for a meta tensor."""
    saved: list[tuple[dict[str, Any], str, Any]] = []
    try:
        for mod in module.modules():
            for store in (mod._parameters, mod._buffers):
                for name, value in list(store.items()):
                    if value is None or value.device.type == "meta":
                        continue
                    saved.append((store, name, value))
                    # A weight type may give its own meta twin (layers' Variable).
                    like = getattr(value, "_like_on_meta", None)
                    meta = like() if like is not None else None
                    if meta is None:
                        meta = torch.empty_like(value, device="meta")
                    store[name] = meta  # type: ignore[assignment]
        yield
    finally:
        for store, name, value in reversed(saved):
            store[name] = value


def _to_meta(x: Any, fill: int) -> Any:
    if isinstance(x, SymbolicTensor):
        shape = tuple(fill if d is None else d for d in x.shape)
        return torch.empty(shape, dtype=x.dtype, device="meta")
    return x


def _fill(structure: Any, fill: int) -> Any:
    return tree.map_structure(lambda x: _to_meta(x, fill), structure)


def _needs_second_run(structure: Any) -> bool:
    return any(
        isinstance(x, SymbolicTensor) and None in x.shape
        for x in tree.flatten(structure)
    )


def meta_spec(
    fn: Callable[..., Any], module: torch.nn.Module, args: Any, kwargs: dict[str, Any]
) -> Any:
    """Run `fn(*args, **kwargs)` on meta tensors; return the outputs' specs.

    Args:
        fn: The function to trace (a layer's `call` or `compute_mask`).
        module: Whose parameters move to `meta` during the run.
        args: Positional arguments; `SymbolicTensor` leaves become meta tensors.
        kwargs: Keyword arguments, likewise.

    Returns:
        The output structure with a `TensorSpec` for each tensor leaf (None stays None).
    """
    runs = []
    fills = _FILLS if _needs_second_run([args, kwargs]) else _FILLS[:1]
    on_meta = thread_value(_LOCAL, "device", torch.device("meta"))
    with on_meta, params_on_meta(module), torch.no_grad():
        for fill in fills:
            a = _fill(list(args), fill)
            k = _fill(kwargs, fill)
            runs.append(fn(*a, **k))
    first = runs[0]
    leaves = [tree.flatten(r) for r in runs]
    specs: list[Any] = []
    for i, leaf in enumerate(leaves[0]):
        if not isinstance(leaf, torch.Tensor):
            specs.append(leaf)
            continue
        shape: list[int | None] = list(leaf.shape)
        for other in leaves[1:]:
            o = other[i]
            if o.ndim != leaf.ndim:
                raise ValueError("output rank depends on the input's unknown dims")
            shape = [d if d == e else None for d, e in zip(shape, o.shape)]
        specs.append(TensorSpec(tuple(shape), leaf.dtype))
    return tree.pack_like(first, specs)
