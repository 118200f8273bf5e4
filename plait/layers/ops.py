"""Layers behind operations on symbolic tensors.

`Operator` records Python operators (`x + y`, `2 * x`, `x[:, 0]`); `OpLayer`
records any function made symbolic-aware with `symbolic_op` (the `plait.ops`,
`plait.random` and `plait.backend` functions): called on a `SymbolicTensor`, such
a function adds a graph node that saves as the op's name and its non-tensor
arguments (JSON data, never code) and reruns the function when the model runs.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import torch

from plait.layers.base import Layer

__all__ = ["OpLayer", "Operator", "apply_operator", "symbolic_op"]

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


# ---------------------------------------------------------------- symbolic ops
# Functions made symbolic-aware by `symbolic_op`, by op name ("relu",
# "random.dropout"); filled when plait.ops / plait.random / plait.backend load.
_OP_FUNCTIONS: dict[str, Callable[..., Any]] = {}
_F = TypeVar("_F", bound=Callable[..., Any])


def _op_function(op: str) -> Callable[..., Any]:
    """The registered function behind `op` (its package registers it on import)."""
    if op not in _OP_FUNCTIONS:
        # The op packages sit above the layers (docs/ARCHITECTURE.md): plait's
        # loaders import them before they read a file.
        raise ValueError(
            f"OpLayer: expected an op that plait.ops, plait.random or plait.backend "
            f"registers, got op={op!r} (import the package that defines it first)."
        )
    return _OP_FUNCTIONS[op]


def _has_symbolic_arg(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    from plait.graph.symbolic import SymbolicTensor

    for value in (*args, *kwargs.values()):
        if isinstance(value, SymbolicTensor):
            return True
        if isinstance(value, (list, tuple)) and any(
            isinstance(v, SymbolicTensor) for v in value
        ):
            return True
    return False


def _encode_arg(value: Any, symbolic: list[Any], op: str) -> Any:
    """One argument as JSON data; symbolic tensors become `{"input": i}`."""
    from plait.graph.symbolic import SymbolicTensor
    from plait.utils.shapes import dtype_name

    if isinstance(value, SymbolicTensor):
        symbolic.append(value)
        return {"input": len(symbolic) - 1}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_encode_arg(v, symbolic, op) for v in value]
    if isinstance(value, dict):
        return {
            "dict": {str(k): _encode_arg(v, symbolic, op) for k, v in value.items()}
        }
    if isinstance(value, torch.dtype):
        return {"dtype": dtype_name(value)}
    if hasattr(value, "__array__") or isinstance(value, torch.Tensor):
        import numpy as np

        tensor = torch.as_tensor(
            np.asarray(value) if not isinstance(value, torch.Tensor) else value
        )
        if tensor.ndim == 0 and not isinstance(value, torch.Tensor):
            return tensor.item()  # a NumPy scalar
        return {
            "tensor": tensor.detach().cpu().tolist(),
            "dtype": dtype_name(tensor.dtype),
        }
    raise TypeError(
        f"ops.{op} on symbolic tensors: expected tensors, numbers, strings, dtypes "
        f"or lists of them as arguments (saved as data), got {type(value).__name__} "
        f"{value!r}. Call it inside a custom layer's call() instead."
    )


def _decode_arg(data: Any, tensors: list[torch.Tensor], consts: list[Any]) -> Any:
    if isinstance(data, list):
        return tuple(_decode_arg(v, tensors, consts) for v in data)
    if not isinstance(data, dict):
        return data
    if "input" in data:
        return tensors[data["input"]]
    if "constant" in data:
        return consts[data["constant"]]
    if "dtype" in data:
        return getattr(torch, data["dtype"])
    return {k: _decode_arg(v, tensors, consts) for k, v in data["dict"].items()}


class OpLayer(Layer):
    """One `plait.ops` function applied to symbolic tensors (made by `ops.relu(x)`).

    Args:
        op: The op's registered name (`"relu"`, `"concatenate"`, `"random.dropout"`).
        arguments: The op's arguments by parameter name, as JSON data: each
            symbolic input is `{"input": i}` (its position in the layer's inputs),
            a constant tensor `{"tensor": [...], "dtype": "float32"}`, a dtype
            `{"dtype": "int32"}`.

    Example:
        >>> import plait
        >>> from plait import ops
        >>> x = plait.Input(shape=(3,))
        >>> ops.sum(ops.relu(x), axis=-1).shape
        (None,)
    """

    def __init__(self, op: str, arguments: dict[str, Any], **kwargs: Any):
        kwargs.setdefault("name", None)
        if kwargs["name"] is None:
            from plait.utils.naming import unique_name

            kwargs["name"] = unique_name(op.replace(".", "_"))
        super().__init__(**kwargs)
        self.op = op
        self._fn = _op_function(op)
        self.arguments = arguments
        # Constant tensors live as buffers: they follow `.to(device)`.
        self._n_consts = 0
        self._arguments = {k: self._hoist(v) for k, v in arguments.items()}

    def _hoist(self, data: Any) -> Any:
        if isinstance(data, list):
            return [self._hoist(v) for v in data]
        if isinstance(data, dict) and "tensor" in data:
            value = torch.tensor(data["tensor"], dtype=getattr(torch, data["dtype"]))
            self.register_buffer(f"constant_{self._n_consts}", value)
            self._n_consts += 1
            return {"constant": self._n_consts - 1}
        if isinstance(data, dict) and "dict" in data:
            return {"dict": {k: self._hoist(v) for k, v in data["dict"].items()}}
        return data

    def call(self, inputs: Any) -> Any:
        """Run the op on real (or meta) tensors."""
        tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        consts = [self._buffers[f"constant_{i}"] for i in range(self._n_consts)]
        arguments = {
            name: _decode_arg(value, tensors, consts)
            for name, value in self._arguments.items()
        }
        args = arguments.pop("*args", ())
        return self._fn(*args, **arguments)

    def get_config(self) -> dict[str, Any]:
        """The op's name and arguments."""
        return {**super().get_config(), "op": self.op, "arguments": self.arguments}


def apply_op(
    op: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Record `fn(*args, **kwargs)` on symbolic tensors as an `OpLayer` node."""
    bound = inspect.signature(fn).bind(*args, **kwargs)
    symbolic: list[Any] = []
    arguments: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = bound.signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            arguments["*args"] = _encode_arg(value, symbolic, op)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(
                {k: _encode_arg(v, symbolic, op) for k, v in value.items()}
            )
        else:
            arguments[name] = _encode_arg(value, symbolic, op)
    layer = OpLayer(op, arguments)
    return layer(symbolic if len(symbolic) > 1 else symbolic[0])


def symbolic_op(op: str) -> Callable[[_F], _F]:
    """Make a torch-implemented op record a graph node when given symbolic tensors.

    Eager calls run the function as is; a call with a `SymbolicTensor` among its
    arguments (or inside a list argument) returns the output of a new `OpLayer`.

    Args:
        op: The name it saves under (`"relu"`; `"random.dropout"` for `plait.random`).
    """

    def wrap(fn: _F) -> _F:
        _OP_FUNCTIONS[op] = fn

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if _has_symbolic_arg(args, kwargs):
                return apply_op(op, fn, args, kwargs)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return wrap
