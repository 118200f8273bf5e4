"""Neural-network ops of `plait.ops` (`keras.ops.nn`): activations, losses, conv, pooling."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from plait.layers.ops import symbolic_op
from plait.ops import ctc, nn_conv
from plait.ops._tensor import (
    as_dtype,
    common,
    convert,
    float_op,
    floatx,
    missing,
    named_op,
    to_float,
)
from plait.ops.ctc import *  # noqa: F403  (re-exported: ops.nn.ctc_loss)
from plait.ops.nn_conv import *  # noqa: F403  (re-exported: ops.nn.conv)

__all__ = [
    "batch_normalization",
    "binary_crossentropy",
    "categorical_crossentropy",
    "celu",
    "elu",
    "gelu",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "layer_normalization",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "moments",
    "multi_hot",
    "normalize",
    "one_hot",
    "polar",
    "psnr",
    "relu",
    "relu6",
    "rms_normalization",
    "selu",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "sparse_categorical_crossentropy",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh_shrink",
    "threshold",
]
__all__ += nn_conv.__all__ + ctc.__all__

_EPSILON = 1e-7  # Keras's backend.epsilon(), used to clip probabilities


def _hard_sigmoid(t: torch.Tensor) -> torch.Tensor:
    return F.relu6(t + 3.0) / 6.0


def _clamp_op(name: str, low: float, high: float | None, doc: str) -> Any:
    # Keras compat: clipping activations keep int inputs int.
    def op(x: Any) -> torch.Tensor:
        return torch.clamp(convert(x), low, high)

    return named_op(op, name, doc)


relu = _clamp_op("relu", 0, None, "`max(x, 0)`.")
relu6 = _clamp_op("relu6", 0, 6, "`min(max(x, 0), 6)`.")
sigmoid = float_op("sigmoid", torch.sigmoid, "`1 / (1 + exp(-x))`.")
softplus = float_op("softplus", F.softplus, "`log(1 + exp(x))`.")
softsign = float_op("softsign", F.softsign, "`x / (1 + |x|)`.")
silu = float_op("silu", F.silu, "`x * sigmoid(x)`.")
swish = float_op("swish", F.silu, "`x * sigmoid(x)` (same as `silu`).")
log_sigmoid = float_op(
    "log_sigmoid", F.logsigmoid, "`log(sigmoid(x))`, computed stably."
)
hard_sigmoid = float_op("hard_sigmoid", _hard_sigmoid, "`relu6(x + 3) / 6`.")
hard_silu = float_op(
    "hard_silu", lambda t: t * _hard_sigmoid(t), "`x * hard_sigmoid(x)`."
)
hard_swish = float_op(
    "hard_swish", lambda t: t * _hard_sigmoid(t), "`x * hard_sigmoid(x)`."
)
hard_tanh = _clamp_op("hard_tanh", -1, 1, "`x` clipped to `[-1, 1]`.")
selu = float_op("selu", F.selu, "Scaled ELU (Klambauer et al. 2017).")
tanh_shrink = float_op("tanh_shrink", lambda t: t - torch.tanh(t), "`x - tanh(x)`.")
sparse_plus = float_op(
    "sparse_plus",
    lambda t: torch.where(t <= -1, 0.0, torch.where(t >= 1, t, (t + 1) ** 2 / 4)),
    "0 below -1, `x` above 1, `(x + 1)**2 / 4` between.",
)
sparse_sigmoid = float_op(
    "sparse_sigmoid",
    lambda t: torch.clamp((t + 1) / 2, 0.0, 1.0),
    "`clip((x + 1) / 2, 0, 1)`.",
)


@symbolic_op("leaky_relu")
def leaky_relu(x: Any, negative_slope: float = 0.2) -> torch.Tensor:
    """`x` if `x > 0` else `negative_slope * x`."""
    return F.leaky_relu(to_float(convert(x)), negative_slope)


@symbolic_op("elu")
def elu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    """`x` if `x > 0` else `alpha * (exp(x) - 1)`."""
    return F.elu(to_float(convert(x)), alpha)


@symbolic_op("celu")
def celu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    """Continuously differentiable ELU."""
    return F.celu(to_float(convert(x)), alpha)


@symbolic_op("gelu")
def gelu(x: Any, approximate: bool = True) -> torch.Tensor:
    """Gaussian error linear unit (the tanh approximation by default, as Keras)."""
    return F.gelu(to_float(convert(x)), approximate="tanh" if approximate else "none")


@symbolic_op("glu")
def glu(x: Any, axis: int = -1) -> torch.Tensor:
    """Gated linear unit: first half times sigmoid of the second half of `axis`."""
    return F.glu(to_float(convert(x)), dim=axis)


@symbolic_op("hard_shrink")
def hard_shrink(x: Any, threshold: float = 0.5) -> torch.Tensor:
    """`x` where `|x| > threshold`, else 0."""
    return F.hardshrink(to_float(convert(x)), threshold)


@symbolic_op("soft_shrink")
def soft_shrink(x: Any, threshold: float = 0.5) -> torch.Tensor:
    """`x` moved `threshold` towards 0, 0 inside `[-threshold, threshold]`."""
    return F.softshrink(to_float(convert(x)), threshold)


@symbolic_op("squareplus")
def squareplus(x: Any, b: float = 4) -> torch.Tensor:
    """`(x + sqrt(x**2 + b)) / 2`."""
    t = to_float(convert(x))
    return (t + torch.sqrt(t * t + b)) / 2


@symbolic_op("threshold")
def threshold(x: Any, threshold: float, default_value: float) -> torch.Tensor:
    """`x` where `x > threshold`, else `default_value` (in `x`'s dtype)."""
    t = convert(x)
    return torch.where(t > threshold, t, torch.tensor(default_value).to(t))


@symbolic_op("polar")
def polar(abs_: Any, angle: Any) -> torch.Tensor:
    """The complex numbers `abs_ * exp(i * angle)`."""
    magnitude, phase = (to_float(t) for t in common(abs_, angle))
    return torch.polar(magnitude, phase)


def _over_axes(
    fn: Callable[..., torch.Tensor], t: torch.Tensor, axis: Any
) -> torch.Tensor:
    if isinstance(axis, (list, tuple)):  # several axes: flatten them to one
        dims = sorted(a % t.ndim for a in axis)
        rest = [d for d in range(t.ndim) if d not in dims]
        moved = t.permute(*rest, *dims)
        out = fn(moved.reshape(*moved.shape[: len(rest)], -1), dim=-1).reshape(
            moved.shape
        )
        return out.permute(*[(rest + dims).index(d) for d in range(t.ndim)])
    return fn(t, dim=axis)


@symbolic_op("softmax")
def softmax(x: Any, axis: Any = -1) -> torch.Tensor:
    """Softmax over `axis` (an int or a tuple of axes)."""
    return _over_axes(torch.softmax, to_float(convert(x)), axis)


@symbolic_op("log_softmax")
def log_softmax(x: Any, axis: Any = -1) -> torch.Tensor:
    """Log of the softmax over `axis`, computed stably."""
    return _over_axes(torch.log_softmax, to_float(convert(x)), axis)


@symbolic_op("sparsemax")
def sparsemax(x: Any, axis: int = -1) -> torch.Tensor:
    """Sparsemax (Martins & Astudillo 2016): a projection onto the simplex."""
    t = torch.movedim(to_float(convert(x)), axis, -1)
    z, _ = torch.sort(t, dim=-1, descending=True)
    k = torch.arange(1, t.shape[-1] + 1, dtype=t.dtype, device=t.device)
    cumulative = torch.cumsum(z, dim=-1)
    support = (1 + k * z > cumulative).to(t.dtype)
    k_max = support.sum(dim=-1, keepdim=True)
    tau = (torch.gather(cumulative, -1, k_max.long() - 1) - 1) / k_max
    return torch.movedim(torch.clamp(t - tau, min=0), -1, axis)


@symbolic_op("one_hot")
def one_hot(
    x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False
) -> torch.Tensor:
    """One-hot vectors of `num_classes` (floatx unless `dtype`); -1 gives zeros."""
    t = convert(x).to(torch.long)
    valid = (t >= 0) & (t < num_classes)
    out = F.one_hot(torch.where(valid, t, 0), num_classes) * valid.unsqueeze(-1)
    out = out.to(as_dtype(dtype) or floatx())
    return torch.movedim(out, -1, axis) if axis != -1 else out


@symbolic_op("multi_hot")
def multi_hot(
    inputs: Any,
    num_classes: int | None = None,
    axis: int = -1,
    dtype: Any = None,
    sparse: bool = False,
    **kwargs: Any,
) -> torch.Tensor:
    """One multi-hot vector per row of int class ids (the last axis is reduced)."""
    if num_classes is None:
        raise ValueError("ops.multi_hot: expected num_classes to be an int, got None.")
    hot = one_hot(inputs, num_classes, axis=-1, dtype=dtype)
    reduce_axis = -2 if convert(inputs).ndim > 1 else 0
    out = torch.amax(hot, dim=reduce_axis)
    return torch.movedim(out, -1, axis) if axis != -1 else out


# ------------------------------------------------------------------ losses
@symbolic_op("binary_crossentropy")
def binary_crossentropy(
    target: Any, output: Any, from_logits: bool = False
) -> torch.Tensor:
    """Element-wise binary cross-entropy (probabilities clipped to `[eps, 1 - eps]`)."""
    y, p = (to_float(t) for t in common(target, output))
    if from_logits:
        return F.binary_cross_entropy_with_logits(p, y, reduction="none")
    p = torch.clamp(p, _EPSILON, 1.0 - _EPSILON)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p))


@symbolic_op("categorical_crossentropy")
def categorical_crossentropy(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> torch.Tensor:
    """Cross-entropy between one-hot (or soft) `target` and `output` over `axis`."""
    y, p = (to_float(t) for t in common(target, output))
    if from_logits:
        log_p = torch.log_softmax(p, dim=axis)
    else:
        p = p / torch.sum(p, dim=axis, keepdim=True)
        log_p = torch.log(torch.clamp(p, _EPSILON, 1.0 - _EPSILON))
    return -torch.sum(y * log_p, dim=axis)


@symbolic_op("sparse_categorical_crossentropy")
def sparse_categorical_crossentropy(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> torch.Tensor:
    """Cross-entropy between int class ids `target` and `output` over `axis`."""
    p = to_float(convert(output))
    y = convert(target).to(torch.long)
    if y.ndim == p.ndim:  # Keras compat: a trailing size-1 axis is dropped
        y = y.squeeze(axis)
    hot = one_hot(y, p.shape[axis], axis=axis, dtype=p.dtype)
    return categorical_crossentropy(hot, p, from_logits=from_logits, axis=axis)


@symbolic_op("psnr")
def psnr(x1: Any, x2: Any, max_val: float) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB: `20 log10(max_val) - 10 log10(mse)`."""
    a, b = (to_float(t) for t in common(x1, x2))
    mse = torch.mean((a - b) ** 2)
    return 20 * math.log10(max_val) - 10 * torch.log10(mse)


# ------------------------------------------------------------------ normalization
@symbolic_op("moments")
def moments(
    x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (population) variance over `axes`."""
    t = to_float(convert(x))
    dims = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    var, mean = torch.var_mean(t, dim=dims, keepdim=keepdims, correction=0)
    return mean, var


@symbolic_op("batch_normalization")
def batch_normalization(
    x: Any,
    mean: Any,
    variance: Any,
    axis: int,
    offset: Any = None,
    scale: Any = None,
    epsilon: float = 1e-3,
) -> torch.Tensor:
    """`(x - mean) / sqrt(variance + epsilon) * scale + offset`, the stats along `axis`."""
    t = to_float(convert(x))
    shape = [1] * t.ndim
    shape[axis] = t.shape[axis]

    def along(v: Any) -> torch.Tensor:
        return convert(v).to(t.dtype).reshape(shape)

    out = (t - along(mean)) * torch.rsqrt(along(variance) + epsilon)
    if scale is not None:
        out = out * along(scale)
    return out + along(offset) if offset is not None else out


@symbolic_op("layer_normalization")
def layer_normalization(
    x: Any,
    gamma: Any = None,
    beta: Any = None,
    axis: int = -1,
    epsilon: float | None = None,
    **kwargs: Any,
) -> torch.Tensor:
    """Normalize over `axis` to mean 0, variance 1, then scale by `gamma`, add `beta`."""
    t = to_float(convert(x))
    var, mean = torch.var_mean(t, dim=axis, keepdim=True, correction=0)
    out = (t - mean) * torch.rsqrt(var + (_EPSILON if epsilon is None else epsilon))
    if gamma is not None:
        out = out * convert(gamma).to(t.dtype)
    return out + convert(beta).to(t.dtype) if beta is not None else out


@symbolic_op("rms_normalization")
def rms_normalization(
    x: Any, scale: Any = None, axis: int = -1, epsilon: float | None = None
) -> torch.Tensor:
    """`x / sqrt(mean(x**2, axis) + epsilon) * scale`."""
    t = to_float(convert(x))
    eps = _EPSILON if epsilon is None else epsilon
    out = t * torch.rsqrt(torch.mean(t * t, dim=axis, keepdim=True) + eps)
    return out * convert(scale).to(t.dtype) if scale is not None else out


@symbolic_op("normalize")
def normalize(
    x: Any, axis: int = -1, order: int = 2, epsilon: float | None = None
) -> torch.Tensor:
    """`x` divided by its `order`-norm along `axis`."""
    t = to_float(convert(x))
    eps = _EPSILON if epsilon is None else epsilon
    return F.normalize(t, p=order, dim=axis, eps=eps)


NOT_PROVIDED: dict[str, str] = {}
__getattr__ = missing("plait.ops.nn", NOT_PROVIDED)
