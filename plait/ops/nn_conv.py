"""Convolution, pooling and attention ops of `plait.ops.nn`, channels-last like Keras.

Keras layouts: inputs `(batch, *spatial, channels)` (or channels-first with
`data_format="channels_first"`), conv kernels `(*kernel_size, in_channels / groups,
filters)`, depthwise kernels `(*kernel_size, in_channels, multiplier)`, transposed
conv kernels `(*kernel_size, filters, in_channels)`. "same" padding follows
TensorFlow: the smaller half of the padding goes before.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from plait.layers.ops import symbolic_op
from plait.ops._tensor import common, config, convert, to_float

__all__ = [
    "adaptive_average_pool", "adaptive_max_pool", "average_pool", "conv",
    "conv_transpose", "depth_to_space", "depthwise_conv", "dot_product_attention",
    "fold", "max_pool", "separable_conv", "space_to_depth", "unfold",
]  # fmt: skip


def _tuple(value: Any, n: int) -> tuple[int, ...]:
    return (int(value),) * n if isinstance(value, int) else tuple(int(v) for v in value)


def _first(t: torch.Tensor, data_format: str | None) -> tuple[torch.Tensor, bool]:
    """Channels-first `t`, and whether it was channels-last."""
    last = (data_format or config["image_data_format"]) == "channels_last"
    return (torch.movedim(t, -1, 1) if last else t), last


def _back(t: torch.Tensor, last: bool) -> torch.Tensor:
    return torch.movedim(t, 1, -1) if last else t


def _same_pads(
    sizes: Any,
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    dilation: tuple[int, ...],
) -> list[int]:
    """F.pad widths (last spatial axis first) for TensorFlow's "same" padding."""
    pads: list[int] = []
    for size, k, s, d in zip(sizes, kernel, strides, dilation):
        total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
        pads = [total // 2, total - total // 2, *pads]
    return pads


_CONV: dict[int, Callable[..., torch.Tensor]] = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T: dict[int, Callable[..., torch.Tensor]] = {
    1: F.conv_transpose1d,
    2: F.conv_transpose2d,
    3: F.conv_transpose3d,
}


def _conv(
    x: torch.Tensor,
    weight: torch.Tensor,
    strides: Any,
    padding: str,
    data_format: str | None,
    dilation_rate: Any,
    groups: int,
) -> torch.Tensor:
    t, last = _first(x, data_format)
    n = t.ndim - 2
    s, d = _tuple(strides, n), _tuple(dilation_rate, n)
    if padding.lower() == "same":
        t = F.pad(t, _same_pads(t.shape[2:], tuple(weight.shape[2:]), s, d))
    return _back(_CONV[n](t, weight, stride=s, dilation=d, groups=groups), last)


@symbolic_op("conv")
def conv(
    inputs: Any,
    kernel: Any,
    strides: Any = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: Any = 1,
) -> torch.Tensor:
    """N-D convolution (1-3 spatial dims) with a Keras-layout `kernel`."""
    x, k = (to_float(t) for t in common(inputs, kernel))
    weight = torch.movedim(k, (-1, -2), (0, 1))  # (filters, in / groups, *kernel_size)
    channels = (
        x.shape[-1]
        if (data_format or config["image_data_format"]) == "channels_last"
        else x.shape[1]
    )
    return _conv(
        x, weight, strides, padding, data_format, dilation_rate, channels // k.shape[-2]
    )


@symbolic_op("depthwise_conv")
def depthwise_conv(
    inputs: Any,
    kernel: Any,
    strides: Any = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: Any = 1,
) -> torch.Tensor:
    """Each input channel convolved with its own `multiplier` filters."""
    x, k = (to_float(t) for t in common(inputs, kernel))
    channels, multiplier = k.shape[-2], k.shape[-1]
    weight = torch.movedim(
        k.reshape(*k.shape[:-2], channels * multiplier, 1), (-2, -1), (0, 1)
    )
    return _conv(x, weight, strides, padding, data_format, dilation_rate, channels)


@symbolic_op("separable_conv")
def separable_conv(
    inputs: Any,
    depthwise_kernel: Any,
    pointwise_kernel: Any,
    strides: Any = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: Any = 1,
) -> torch.Tensor:
    """`depthwise_conv`, then a 1x1 `conv` with `pointwise_kernel`."""
    depthwise = depthwise_conv(
        inputs, depthwise_kernel, strides, padding, data_format, dilation_rate
    )
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format, 1)


@symbolic_op("conv_transpose")
def conv_transpose(
    inputs: Any,
    kernel: Any,
    strides: Any = 1,
    padding: str = "valid",
    output_padding: Any = None,
    data_format: str | None = None,
    dilation_rate: Any = 1,
) -> torch.Tensor:
    """Transposed convolution (the gradient of `conv`), Keras's output sizes."""
    x, k = (to_float(c) for c in common(inputs, kernel))
    t, last = _first(x, data_format)
    n = t.ndim - 2
    s, d = _tuple(strides, n), _tuple(dilation_rate, n)
    weight = torch.movedim(k, (-1, -2), (0, 1))  # (in, filters, *kernel_size)
    out = _CONV_T[n](t, weight, stride=s, dilation=d)
    pads = None if output_padding is None else _tuple(output_padding, n)
    for axis in range(n):
        size, k_eff = t.shape[2 + axis], (k.shape[axis] - 1) * d[axis] + 1
        full = out.shape[2 + axis]
        if pads is None:
            same = padding.lower() == "same"
            target = (
                size * s[axis] if same else size * s[axis] + max(k_eff - s[axis], 0)
            )
            before = max(full - target, 0) // 2
        else:
            before = k_eff // 2 if padding.lower() == "same" else 0
            target = (size - 1) * s[axis] + k_eff - 2 * before + pads[axis]
        if full < target + before:  # grow with zeros at the end
            widths = [0, 0] * (n - 1 - axis) + [0, target + before - full]
            out = F.pad(out, widths)
        out = out.narrow(2 + axis, before, target)
    return _back(out, last)


def _pool(
    inputs: Any,
    pool_size: Any,
    strides: Any,
    padding: str,
    data_format: str | None,
    kind: str,
) -> torch.Tensor:
    t, last = _first(to_float(convert(inputs)), data_format)
    n = t.ndim - 2
    k = _tuple(pool_size, n)
    s = k if strides is None else _tuple(strides, n)
    ones = (1,) * n
    pads = (
        _same_pads(t.shape[2:], k, s, ones)
        if padding.lower() == "same"
        else [0] * (2 * n)
    )
    if kind == "max":
        padded = F.pad(t, pads, value=-math.inf)
        out = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[n](padded, k, s)
    else:  # the mean over the window's inputs, padding excluded (as Keras)
        avg = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[n]
        total = avg(F.pad(t, pads), k, s)
        count = avg(F.pad(torch.ones_like(t[:1, :1]), pads), k, s)
        out = total / count
    return _back(out, last)


@symbolic_op("max_pool")
def max_pool(
    inputs: Any,
    pool_size: Any,
    strides: Any = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> torch.Tensor:
    """Maximum over windows of `pool_size` (strides default to `pool_size`)."""
    return _pool(inputs, pool_size, strides, padding, data_format, "max")


@symbolic_op("average_pool")
def average_pool(
    inputs: Any,
    pool_size: Any,
    strides: Any = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> torch.Tensor:
    """Mean over windows of `pool_size` (padding not counted)."""
    return _pool(inputs, pool_size, strides, padding, data_format, "average")


def _adaptive(
    inputs: Any, output_size: Any, data_format: str | None, kind: str
) -> torch.Tensor:
    t, last = _first(to_float(convert(inputs)), data_format)
    n = t.ndim - 2
    fns: dict[str, dict[int, Callable[..., torch.Tensor]]] = {
        "max": {
            1: F.adaptive_max_pool1d,
            2: F.adaptive_max_pool2d,
            3: F.adaptive_max_pool3d,
        },
        "average": {
            1: F.adaptive_avg_pool1d,
            2: F.adaptive_avg_pool2d,
            3: F.adaptive_avg_pool3d,
        },
    }
    return _back(fns[kind][n](t, _tuple(output_size, n)), last)


@symbolic_op("adaptive_max_pool")
def adaptive_max_pool(
    inputs: Any, output_size: Any, data_format: str | None = None
) -> torch.Tensor:
    """Max pooling to a fixed `output_size`."""
    return _adaptive(inputs, output_size, data_format, "max")


@symbolic_op("adaptive_average_pool")
def adaptive_average_pool(
    inputs: Any, output_size: Any, data_format: str | None = None
) -> torch.Tensor:
    """Average pooling to a fixed `output_size`."""
    return _adaptive(inputs, output_size, data_format, "average")


@symbolic_op("depth_to_space")
def depth_to_space(
    x: Any, block_size: int, data_format: str = "channels_last"
) -> torch.Tensor:
    """Move channel blocks into `block_size x block_size` spatial blocks.

    Channels-last reads each block's entries row by row, then channel (as
    TensorFlow); channels-first channel by channel (as torch's `pixel_shuffle`).
    Keras 3 does the same on every backend.
    """
    t, last = _first(convert(x), data_format)
    if (
        not last
    ):  # Keras compat: channels-first blocks are channel-major (pixel shuffle)
        return F.pixel_shuffle(t, block_size)
    b, c, h, w = t.shape
    out = t.reshape(b, block_size, block_size, c // block_size**2, h, w)
    out = out.permute(0, 3, 4, 1, 5, 2)  # (b, c', h, bs, w, bs)
    return _back(
        out.reshape(b, c // block_size**2, h * block_size, w * block_size), last
    )


@symbolic_op("space_to_depth")
def space_to_depth(
    x: Any, block_size: int, data_format: str = "channels_last"
) -> torch.Tensor:
    """The inverse of `depth_to_space`."""
    t, last = _first(convert(x), data_format)
    if not last:
        return F.pixel_unshuffle(t, block_size)
    b, c, h, w = t.shape
    out = t.reshape(b, c, h // block_size, block_size, w // block_size, block_size)
    out = out.permute(0, 3, 5, 1, 2, 4)  # (b, bs, bs, c, h', w')
    return _back(
        out.reshape(b, c * block_size**2, h // block_size, w // block_size), last
    )


@symbolic_op("unfold")
def unfold(
    x: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
) -> torch.Tensor:
    """Sliding blocks of a channels-first `(batch, channels, h, w)` input (`F.unfold`)."""
    return F.unfold(
        convert(x), kernel_size, dilation=dilation, padding=padding, stride=stride
    )


@symbolic_op("fold")
def fold(
    x: Any,
    output_size: Any,
    kernel_size: Any,
    dilation: Any = 1,
    padding: Any = 0,
    stride: Any = 1,
) -> torch.Tensor:
    """Sum sliding blocks back into a channels-first image (`F.fold`)."""
    return F.fold(
        convert(x),
        output_size,
        kernel_size,
        dilation=dilation,
        padding=padding,
        stride=stride,
    )


@symbolic_op("dot_product_attention")
def dot_product_attention(
    query: Any,
    key: Any,
    value: Any,
    bias: Any = None,
    mask: Any = None,
    scale: float | None = None,
    is_causal: bool = False,
    flash_attention: bool | None = None,
    attn_logits_soft_cap: float | None = None,
) -> torch.Tensor:
    """Scaled dot-product attention on `(batch, seq, heads, dim)` tensors."""
    q, k, v = (torch.movedim(to_float(t), 2, 1) for t in common(query, key, value))
    logits = torch.matmul(q, k.transpose(-1, -2)) * (
        q.shape[-1] ** -0.5 if scale is None else scale
    )
    if attn_logits_soft_cap is not None:
        logits = attn_logits_soft_cap * torch.tanh(logits / attn_logits_soft_cap)
    if bias is not None:
        logits = logits + convert(bias).to(logits.dtype)
    keep = None if mask is None else convert(mask).bool()
    if is_causal:
        causal = torch.ones(
            logits.shape[-2:], dtype=torch.bool, device=logits.device
        ).tril()
        keep = causal if keep is None else keep & causal
    if keep is not None:
        logits = logits.masked_fill(~keep, torch.finfo(logits.dtype).min)
    weights = torch.softmax(logits, dim=-1)
    return torch.movedim(torch.matmul(weights, v), 1, 2)
