"""Layers behind Python operators on symbolic tensors: `x + y`, `2 * x`, `x[:, 0]`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from plait.layers.base import Layer

__all__ = ["Operator", "apply_operator"]

_BINARY: dict[str, Callable[[Any, Any], torch.Tensor]] = {
    "add": torch.add,
    "subtract": torch.sub,
    "multiply": torch.mul,
    "divide": torch.true_divide,
    "power": torch.pow,
    "matmul": torch.matmul,
}
_UNARY: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "negative": torch.neg,
    "absolute": torch.abs,
}
_ELEMENTWISE = frozenset(
    {"add", "subtract", "multiply", "divide", "power", "negative", "absolute"}
)
_NONE = object()


def _encode_key(key: Any) -> Any:
    """An index key as JSON data (slices, Ellipsis, None, ints, tuples)."""
    if isinstance(key, tuple):
        return {"tuple": [_encode_key(k) for k in key]}
    if isinstance(key, slice):
        return {"slice": [key.start, key.stop, key.step]}
    if key is Ellipsis:
        return {"ellipsis": True}
    if key is None or (isinstance(key, int) and not isinstance(key, bool)):
        return key
    raise TypeError(
        f"indexing a symbolic tensor takes ints, slices, None and ..., got "
        f"{type(key).__name__} {key!r}."
    )


def _decode_key(data: Any) -> Any:
    if isinstance(data, dict):
        if "tuple" in data:
            return tuple(_decode_key(k) for k in data["tuple"])
        if "slice" in data:
            return slice(*data["slice"])
        return Ellipsis
    return data


class Operator(Layer):
    """One Python operator applied to symbolic tensors (made by `x + y`, `x[0]`, ...).

    Args:
        op: `"add"`, `"subtract"`, `"multiply"`, `"divide"`, `"power"`, `"matmul"`,
            `"negative"`, `"absolute"` or `"getitem"`.
        operand: A constant other operand (a number) or, for `getitem`, the key.
        reverse: Whether the constant is the left operand (`2 - x`).

    Example:
        >>> import plait
        >>> x = plait.Input(shape=(3,))
        >>> (2 * x + x).shape
        (None, 3)
    """

    def __init__(
        self, op: str, operand: Any = _NONE, reverse: bool = False, **kwargs: Any
    ):
        if op not in _BINARY and op not in _UNARY and op != "getitem":
            raise ValueError(f"Operator: unknown op {op!r}.")
        kwargs.setdefault("name", None)
        super().__init__(**kwargs)
        self.op = op
        self.reverse = bool(reverse)
        self.supports_masking = op in _UNARY
        self._key: Any = None
        self.operand: Any = None
        if op == "getitem":
            _encode_key(operand)  # fail early on keys that cannot be saved
            self._key = operand
        elif operand is not _NONE:
            if isinstance(operand, torch.Tensor):
                self.register_buffer("constant", operand.detach().clone())
            else:
                self.operand = (
                    float(operand) if not isinstance(operand, int) else operand
                )

    def call(self, inputs: Any) -> torch.Tensor:
        """Apply the operator."""
        if self.op == "getitem":
            return inputs[self._key]
        if self.op in _UNARY:
            return _UNARY[self.op](inputs)
        fn = _BINARY[self.op]
        if isinstance(inputs, (list, tuple)):
            return fn(inputs[0], inputs[1])
        other = self._buffers.get("constant", self.operand)
        return fn(other, inputs) if self.reverse else fn(inputs, other)

    def _infer_output_specs(
        self, inputs: Any, args: Any, call_kwargs: Any, flat_in: list[Any]
    ) -> Any:
        # Element-wise ops: broadcast shapes and promote dtypes directly, which
        # skips the (first-use expensive) meta-device run; others go through it.
        if self.op not in _ELEMENTWISE:
            return super()._infer_output_specs(inputs, args, call_kwargs, flat_in)
        from plait.graph.inference import TensorSpec
        from plait.layers.merging import _broadcast

        shapes = [t.shape for t in flat_in]
        dtype = flat_in[0].dtype
        for t in flat_in[1:]:
            dtype = torch.promote_types(dtype, t.dtype)
        constant = self._buffers.get("constant", self.operand)
        if isinstance(constant, torch.Tensor):
            shapes.append(tuple(constant.shape))
            dtype = torch.promote_types(dtype, constant.dtype)
        elif constant is not None:
            dtype = torch.result_type(torch.empty((), dtype=dtype), constant)
        if self.op == "divide" and not dtype.is_floating_point:
            dtype = torch.get_default_dtype()
        return TensorSpec(_broadcast(self._where(), shapes), dtype)

    def get_config(self) -> dict[str, Any]:
        """The op and its constant operand."""
        config = {**super().get_config(), "op": self.op, "reverse": self.reverse}
        if self.op == "getitem":
            config["key"] = _encode_key(self._key)
        elif "constant" in self._buffers:
            config["constant"] = self._buffers["constant"].tolist()  # type: ignore[union-attr]
        elif self.operand is not None:
            config["operand"] = self.operand
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Operator:
        """Recreate from `get_config()`."""
        config = dict(config)
        if "key" in config:
            config["operand"] = _decode_key(config.pop("key"))
        elif "constant" in config:
            config["operand"] = torch.tensor(config.pop("constant"))
        return cls(**config)


def apply_operator(name: str, x: Any, other: Any, reverse: bool) -> Any:
    """Build the graph node for `x <op> other` (or `other <op> x` when `reverse`)."""
    from plait.graph.symbolic import SymbolicTensor

    if name in _UNARY:
        return Operator(name)(x)
    if name == "getitem":
        return Operator("getitem", other)(x)
    if isinstance(other, SymbolicTensor):
        return Operator(name)([other, x] if reverse else [x, other])
    if hasattr(other, "__array__") and not isinstance(other, torch.Tensor):
        import numpy as np

        other = torch.as_tensor(np.asarray(other))
    if not isinstance(other, (int, float, torch.Tensor)) or isinstance(other, bool):
        raise TypeError(
            f"unsupported operand for symbolic {name}: {type(other).__name__} {other!r}."
        )
    return Operator(name, other, reverse=reverse)(x)
