"""`plait.backend`: the Keras 2 backend (`from keras import backend as K`) on torch.

The functions custom layers and losses of the Keras 2 era call (`K.dot`,
`K.batch_dot`, `K.sum`, `K.int_shape`, `K.epsilon`, ...), with Keras 2's
argument names and semantics, over the same code as `plait.ops`. On symbolic
tensors they add graph nodes, as `plait.ops` does.

Example:
    >>> import plait
    >>> from plait import backend as K
    >>> K.int_shape(plait.Input(shape=(3,)))
    (None, 3)
    >>> K.batch_dot(K.ones((2, 3)), K.ones((2, 3)), axes=1).shape
    torch.Size([2, 1])
"""

# Keras 2's names (abs, sum, max, pow, round, ...) shadow builtins on purpose.
# ruff: noqa: A001

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from plait import ops
from plait import random as _random
from plait.graph.symbolic import SymbolicTensor
from plait.layers.ops import symbolic_op
from plait.ops._tensor import config, convert, to_float
from plait.utils import clear_session as _reset_names

__all__ = [
    "abs", "all", "any", "arange", "argmax", "argmin", "batch_dot", "batch_flatten",
    "batch_get_value", "batch_set_value", "bias_add", "binary_crossentropy", "cast",
    "categorical_crossentropy", "clear_session", "clip", "concatenate", "constant",
    "cos", "count_params", "cumprod", "cumsum", "dot", "dropout", "dtype", "elu",
    "epsilon", "equal", "exp", "expand_dims", "eye", "flatten", "floatx", "gather",
    "get_value", "greater", "greater_equal", "hard_sigmoid", "image_data_format",
    "in_train_phase", "int_shape", "is_keras_tensor", "is_tensor", "l2_normalize",
    "learning_phase", "less", "less_equal", "log", "logsumexp", "max", "maximum",
    "mean", "min", "minimum", "ndim", "not_equal", "one_hot", "ones", "ones_like",
    "permute_dimensions", "pow", "prod", "random_normal", "random_uniform", "relu",
    "repeat", "repeat_elements", "reshape", "round", "set_epsilon", "set_floatx",
    "set_image_data_format", "set_value", "shape", "sigmoid", "sign", "sin",
    "softmax", "softplus", "softsign", "sparse_categorical_crossentropy", "sqrt",
    "square", "squeeze", "stack", "std", "stop_gradient", "sum", "switch", "tanh",
    "tile", "transpose", "update", "update_add", "update_sub", "var", "variable",
    "zeros", "zeros_like",
]  # fmt: skip


# ------------------------------------------------------------------ configuration
def epsilon() -> float:
    """The fuzz factor added to denominators (1e-7)."""
    return float(config["epsilon"])


def set_epsilon(value: float) -> None:
    """Set `epsilon()`."""
    config["epsilon"] = float(value)


def floatx() -> str:
    """The default float dtype's name (torch's default dtype)."""
    return str(torch.get_default_dtype()).replace("torch.", "")


def set_floatx(value: str) -> None:
    """Set the default float dtype (`torch.set_default_dtype`)."""
    torch.set_default_dtype(getattr(torch, value))


def image_data_format() -> str:
    """`"channels_last"` (Keras's default) or `"channels_first"`."""
    return str(config["image_data_format"])


def set_image_data_format(data_format: str) -> None:
    """Set `image_data_format()` for the ops that take `data_format=None`."""
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"set_image_data_format: expected 'channels_last' or 'channels_first', got {data_format!r}."
        )
    config["image_data_format"] = data_format


def clear_session() -> None:
    """Reset auto layer names (`dense`, `dense_1`, ... start again)."""
    _reset_names()


def learning_phase() -> int:
    """0: plait layers take `training=` explicitly, so the global phase is inference."""
    return 0


# ------------------------------------------------------------------ variables
def variable(
    value: Any, dtype: Any = None, name: str | None = None, constraint: Any = None
) -> torch.nn.Parameter:
    """A trainable tensor (a `torch.nn.Parameter`) holding `value`."""
    tensor = convert(
        value, dtype or (floatx() if not isinstance(value, torch.Tensor) else None)
    )
    return torch.nn.Parameter(tensor.clone(), requires_grad=tensor.is_floating_point())


def constant(
    value: Any, dtype: Any = None, shape: Any = None, name: str | None = None
) -> torch.Tensor:
    """A tensor of `value` (broadcast to `shape` if given)."""
    tensor = convert(value, dtype or floatx())
    return tensor.expand(tuple(shape)).clone() if shape is not None else tensor


def get_value(x: Any) -> np.ndarray:
    """The value of a variable or tensor as a NumPy array."""
    return ops.convert_to_numpy(x)


def batch_get_value(tensors: list[Any]) -> list[np.ndarray]:
    """`get_value` of each tensor."""
    return [get_value(t) for t in tensors]


def set_value(x: torch.Tensor, value: Any) -> None:
    """Overwrite a variable's values in place (keeping its dtype and device)."""
    with torch.no_grad():
        x.copy_(convert(value).reshape(x.shape))


def batch_set_value(tuples: list[tuple[torch.Tensor, Any]]) -> None:
    """`set_value` for each `(variable, value)` pair."""
    for x, value in tuples:
        set_value(x, value)


def update(x: torch.Tensor, new_x: Any) -> torch.Tensor:
    """`x = new_x`, in place."""
    set_value(x, new_x)
    return x


def update_add(x: torch.Tensor, increment: Any) -> torch.Tensor:
    """`x += increment`, in place."""
    with torch.no_grad():
        x.add_(convert(increment).to(x.dtype))
    return x


def update_sub(x: torch.Tensor, decrement: Any) -> torch.Tensor:
    """`x -= decrement`, in place."""
    with torch.no_grad():
        x.sub_(convert(decrement).to(x.dtype))
    return x


def count_params(x: Any) -> int:
    """Number of entries."""
    return int(np.prod([d or 0 for d in int_shape(x)]))


# ------------------------------------------------------------------ shapes
def int_shape(x: Any) -> tuple[int | None, ...]:
    """The shape as a tuple of ints, `None` for a symbolic tensor's batch."""
    if isinstance(x, SymbolicTensor):
        return x.shape
    return tuple(int(d) for d in convert(x).shape)


def shape(x: Any) -> Any:
    """The shape: an int32 tensor for real tensors, a tuple for symbolic ones."""
    if isinstance(x, SymbolicTensor):
        return x.shape
    return torch.tensor(tuple(convert(x).shape), dtype=torch.int32)


def ndim(x: Any) -> int:
    """Number of axes."""
    return len(int_shape(x))


def dtype(x: Any) -> str:
    """The dtype's name."""
    return ops.dtype(x)


def is_keras_tensor(x: Any) -> bool:
    """Whether `x` is a symbolic tensor (from `plait.Input` or a layer)."""
    return isinstance(x, SymbolicTensor)


def is_tensor(x: Any) -> bool:
    """Whether `x` is a tensor (torch or symbolic)."""
    return ops.is_tensor(x)


# ------------------------------------------------------------------ math
abs = ops.abs
square = ops.square
exp = ops.exp
log = ops.log
sign = ops.sign
sin = ops.sin
cos = ops.cos
tanh = ops.tanh
sigmoid = ops.sigmoid
softplus = ops.softplus
softsign = ops.softsign
maximum = ops.maximum
minimum = ops.minimum
equal = ops.equal
not_equal = ops.not_equal
greater = ops.greater
greater_equal = ops.greater_equal
less = ops.less
less_equal = ops.less_equal
dot = ops.dot
transpose = ops.transpose
reshape = ops.reshape
cast = ops.cast
stop_gradient = ops.stop_gradient
logsumexp = ops.logsumexp
zeros_like = ops.zeros_like
ones_like = ops.ones_like
round = ops.round
sum = ops.sum
mean = ops.mean
max = ops.max
min = ops.min
prod = ops.prod
std = ops.std
var = ops.var
any = ops.any
all = ops.all
categorical_crossentropy = ops.categorical_crossentropy
sparse_categorical_crossentropy = ops.sparse_categorical_crossentropy
binary_crossentropy = ops.binary_crossentropy


@symbolic_op("backend.sqrt")
def sqrt(x: Any) -> torch.Tensor:
    """Square root, negative inputs clipped to 0 first (Keras 2)."""
    return torch.sqrt(torch.clamp(to_float(convert(x)), min=0.0))


@symbolic_op("backend.pow")
def pow(x: Any, a: Any) -> torch.Tensor:
    """`x ** a`."""
    return ops.power(x, a)


@symbolic_op("backend.clip")
def clip(x: Any, min_value: Any, max_value: Any) -> torch.Tensor:
    """`x` limited to `[min_value, max_value]`."""
    return ops.clip(x, min_value, max_value)


@symbolic_op("backend.argmax")
def argmax(x: Any, axis: int = -1) -> torch.Tensor:
    """Indices of the maxima along `axis` (the last by default, as Keras 2)."""
    return ops.argmax(x, axis=axis).to(torch.int64)


@symbolic_op("backend.argmin")
def argmin(x: Any, axis: int = -1) -> torch.Tensor:
    """Indices of the minima along `axis`."""
    return ops.argmin(x, axis=axis).to(torch.int64)


@symbolic_op("backend.cumsum")
def cumsum(x: Any, axis: int = 0) -> torch.Tensor:
    """Cumulative sum along `axis`."""
    return ops.cumsum(x, axis=axis)


@symbolic_op("backend.cumprod")
def cumprod(x: Any, axis: int = 0) -> torch.Tensor:
    """Cumulative product along `axis`."""
    return ops.cumprod(x, axis=axis)


@symbolic_op("backend.batch_dot")
def batch_dot(x: Any, y: Any, axes: Any = None) -> torch.Tensor:
    """Per-sample dot product, contracting `axes` (Keras 2's rules).

    `axes` is an int (the same axis of both) or a pair; by default the last axis
    of `x` and the second-to-last of `y` (the last when `y` is 2-D). The output
    keeps the batch, then `x`'s remaining axes, then `y`'s; a result with only
    the batch axis gets a trailing axis of size 1: `(batch, 1)`.
    """
    a, b = (ops.convert_to_tensor(t) for t in (x, y))
    if axes is None:
        axes = (a.ndim - 1, b.ndim - 1 if b.ndim == 2 else b.ndim - 2)
    elif isinstance(axes, int):
        axes = (axes, axes)
    ax, ay = (int(axes[0]) % a.ndim, int(axes[1]) % b.ndim)
    if ax == 0 or ay == 0:
        raise ValueError(
            f"K.batch_dot: expected axes other than the batch axis 0, got axes={axes!r}."
        )
    a = torch.movedim(a, ax, -1)  # (batch, *rest_x, k)
    b = torch.movedim(b, ay, 1)  # (batch, k, *rest_y)
    rest_x, rest_y = a.shape[1:-1], b.shape[2:]
    out = torch.bmm(
        a.reshape(a.shape[0], -1, a.shape[-1]), b.reshape(b.shape[0], b.shape[1], -1)
    )
    out = out.reshape(a.shape[0], *rest_x, *rest_y)
    return out.unsqueeze(-1) if out.ndim == 1 else out


@symbolic_op("backend.concatenate")
def concatenate(tensors: Any, axis: int = -1) -> torch.Tensor:
    """Join tensors along `axis` (the last by default, as Keras 2)."""
    return ops.concatenate(tensors, axis=axis)


@symbolic_op("backend.stack")
def stack(x: Any, axis: int = 0) -> torch.Tensor:
    """Join tensors along a new `axis`."""
    return ops.stack(x, axis=axis)


@symbolic_op("backend.permute_dimensions")
def permute_dimensions(x: Any, pattern: Any) -> torch.Tensor:
    """Permute axes by `pattern` (a tuple such as `(0, 2, 1)`)."""
    return ops.transpose(x, tuple(pattern))


@symbolic_op("backend.expand_dims")
def expand_dims(x: Any, axis: int = -1) -> torch.Tensor:
    """Insert a size-1 axis at `axis` (the end by default)."""
    return ops.expand_dims(x, axis)


@symbolic_op("backend.squeeze")
def squeeze(x: Any, axis: int) -> torch.Tensor:
    """Remove the size-1 axis `axis`."""
    return ops.squeeze(x, axis)


@symbolic_op("backend.repeat")
def repeat(x: Any, n: int) -> torch.Tensor:
    """`(batch, dim)` -> `(batch, n, dim)`."""
    return ops.tile(ops.expand_dims(x, 1), (1, n, 1))


@symbolic_op("backend.repeat_elements")
def repeat_elements(x: Any, rep: int, axis: int) -> torch.Tensor:
    """Repeat each entry `rep` times along `axis`."""
    return ops.repeat(x, rep, axis=axis)


@symbolic_op("backend.tile")
def tile(x: Any, n: Any) -> torch.Tensor:
    """Tile `x` `n` times (an int, or one per axis)."""
    return ops.tile(x, (n,) if isinstance(n, int) else n)


@symbolic_op("backend.flatten")
def flatten(x: Any) -> torch.Tensor:
    """`x` as 1-D."""
    return ops.reshape(x, (-1,))


@symbolic_op("backend.batch_flatten")
def batch_flatten(x: Any) -> torch.Tensor:
    """`(batch, ...)` -> `(batch, prod(...))`."""
    t = ops.convert_to_tensor(x)
    return t.reshape(t.shape[0], -1)


@symbolic_op("backend.gather")
def gather(reference: Any, indices: Any) -> torch.Tensor:
    """Rows of `reference` at `indices`."""
    return ops.take(reference, indices, axis=0)


@symbolic_op("backend.one_hot")
def one_hot(indices: Any, num_classes: int) -> torch.Tensor:
    """One-hot vectors of `num_classes` along a new last axis."""
    return ops.one_hot(indices, num_classes)


@symbolic_op("backend.softmax")
def softmax(x: Any, axis: int = -1) -> torch.Tensor:
    """Softmax over `axis`."""
    return ops.softmax(x, axis=axis)


@symbolic_op("backend.relu")
def relu(
    x: Any, alpha: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> torch.Tensor:
    """Keras 2's relu: `alpha` slope below `threshold`, capped at `max_value`."""
    t = to_float(convert(x))
    out = torch.where(t >= threshold, t, alpha * (t - threshold))
    return torch.clamp(out, max=max_value) if max_value is not None else out


@symbolic_op("backend.elu")
def elu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    """`x` if `x > 0` else `alpha * (exp(x) - 1)`."""
    return ops.elu(x, alpha)


@symbolic_op("backend.hard_sigmoid")
def hard_sigmoid(x: Any) -> torch.Tensor:
    """Keras 2's `clip(0.2 * x + 0.5, 0, 1)`."""
    return torch.clamp(0.2 * ops.convert_to_tensor(x) + 0.5, 0.0, 1.0)


@symbolic_op("backend.l2_normalize")
def l2_normalize(x: Any, axis: Any = None) -> torch.Tensor:
    """`x / sqrt(max(sum(x**2, axis), epsilon))`."""
    t = ops.convert_to_tensor(x)
    squares = ops.sum(t * t, axis=axis, keepdims=True)
    return t * torch.rsqrt(torch.clamp(squares, min=1e-12))


@symbolic_op("backend.bias_add")
def bias_add(x: Any, bias: Any, data_format: str | None = None) -> torch.Tensor:
    """Add `bias` along the channels axis (the last, or axis 1 for channels-first)."""
    t, b = ops.convert_to_tensor(x), ops.convert_to_tensor(bias)
    if (data_format or image_data_format()) == "channels_first" and t.ndim > 2:
        return t + b.reshape(1, -1, *([1] * (t.ndim - 2)))
    return t + b


@symbolic_op("backend.dropout")
def dropout(
    x: Any, level: float, noise_shape: Any = None, seed: int | None = None
) -> torch.Tensor:
    """Zero entries with probability `level`, scale the rest up."""
    return _random.dropout(x, level, noise_shape=noise_shape, seed=seed)


def in_train_phase(x: Any, alt: Any, training: Any = None) -> Any:
    """`x` when training, else `alt` (callables are called)."""
    chosen = x if (training if training is not None else learning_phase()) else alt
    return chosen() if callable(chosen) else chosen


def switch(condition: Any, then_expression: Any, else_expression: Any) -> Any:
    """Element-wise `then_expression` where `condition`, else `else_expression`."""
    then = then_expression() if callable(then_expression) else then_expression
    other = else_expression() if callable(else_expression) else else_expression
    return ops.where(condition, then, other)


# ------------------------------------------------------------------ creation
def zeros(shape: Any, dtype: Any = None, name: str | None = None) -> torch.Tensor:
    """A tensor of zeros."""
    return ops.zeros(shape, dtype=dtype)


def ones(shape: Any, dtype: Any = None, name: str | None = None) -> torch.Tensor:
    """A tensor of ones."""
    return ops.ones(shape, dtype=dtype)


def eye(size: Any, dtype: Any = None, name: str | None = None) -> torch.Tensor:
    """The identity matrix (`size` an int or `(rows, cols)`)."""
    rows, cols = (size, size) if isinstance(size, int) else size
    return ops.eye(rows, cols, dtype=dtype)


def arange(
    start: Any, stop: Any = None, step: Any = 1, dtype: Any = "int32"
) -> torch.Tensor:
    """`[start, stop)` with `step` (int32 by default)."""
    return ops.arange(start, stop, step, dtype=dtype)


# Keras 2's signatures are Keras 3's.
random_normal = _random.normal
random_uniform = _random.uniform
