"""Math ops of `plait.ops` (`keras.src.ops.math`): segments, top-k, FFTs, special functions."""

# Keras's argument names (ord, sorted) shadow builtins on purpose.
# ruff: noqa: A002

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from plait.layers.ops import symbolic_op
from plait.ops._tensor import axes, convert, float_op, to_float

__all__ = [
    "erf", "erfc", "erfinv", "extract_sequences", "fft", "fft2", "ifft2",
    "in_top_k", "irfft", "logdet", "logsumexp", "rfft", "rsqrt", "segment_max",
    "segment_min", "segment_prod", "segment_sum", "top_k",
]  # fmt: skip


def _identity(reduce: str, dtype: torch.dtype) -> float | int:
    if reduce in ("sum", "prod"):
        return int(reduce == "prod")
    info = torch.finfo(dtype) if dtype.is_floating_point else torch.iinfo(dtype)
    low = -math.inf if dtype.is_floating_point else info.min
    high = math.inf if dtype.is_floating_point else info.max
    return low if reduce == "amax" else high


def _segment(name: str, reduce: str) -> Callable[..., torch.Tensor]:
    def op(
        data: Any,
        segment_ids: Any,
        num_segments: int | None = None,
        sorted: bool = False,
    ) -> torch.Tensor:
        t = convert(data)
        ids = convert(segment_ids).to(torch.long)
        n = int(ids.max()) + 1 if num_segments is None else int(num_segments)
        valid = (ids >= 0) & (ids < n)  # out-of-range ids are dropped, as Keras
        rows, t = ids[valid], t[valid]
        # Empty segments hold the reduction's identity (-inf for max), as Keras.
        out = torch.full(
            (n, *t.shape[1:]),
            _identity(reduce, t.dtype),
            dtype=t.dtype,
            device=t.device,
        )
        index = rows.reshape(-1, *([1] * (t.ndim - 1))).expand_as(t)
        if reduce == "sum":
            return out.scatter_add_(0, index, t)
        return out.scatter_reduce_(0, index, t, reduce=reduce, include_self=True)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"The {reduce} of the rows of `data` with each segment id (empty: its identity)."
    return symbolic_op(name)(op)


segment_sum = _segment("segment_sum", "sum")
segment_max = _segment("segment_max", "amax")
segment_min = _segment("segment_min", "amin")
segment_prod = _segment("segment_prod", "prod")


@symbolic_op("top_k")
def top_k(x: Any, k: int, sorted: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The `k` largest entries of the last axis and their int32 indices."""
    values, indices = torch.topk(convert(x), k, dim=-1, sorted=sorted)
    return values, indices.to(torch.int32)


@symbolic_op("in_top_k")
def in_top_k(targets: Any, predictions: Any, k: int) -> torch.Tensor:
    """Whether each target class is among the `k` top predictions of its row."""
    p = convert(predictions)
    target_score = torch.gather(p, 1, convert(targets).to(torch.long).reshape(-1, 1))
    return torch.sum(p > target_score, dim=1) < k


@symbolic_op("logsumexp")
def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """`log(sum(exp(x)))` over `axis`, computed stably."""
    t = to_float(convert(x))
    dims = axes(axis)
    if dims is None:
        out = torch.logsumexp(t.reshape(-1), dim=0)
        return out.reshape([1] * t.ndim) if keepdims else out
    return torch.logsumexp(t, dim=dims, keepdim=keepdims)


rsqrt = float_op("rsqrt", torch.rsqrt, "`1 / sqrt(x)`.")
erf = float_op("erf", torch.erf, "The Gauss error function.")
erfc = float_op("erfc", torch.erfc, "`1 - erf(x)`.")
erfinv = float_op("erfinv", torch.erfinv, "The inverse of `erf`.")
logdet = float_op(
    "logdet", torch.logdet, "Log-determinant of (batches of) square matrices."
)


@symbolic_op("extract_sequences")
def extract_sequences(
    x: Any, sequence_length: int, sequence_stride: int
) -> torch.Tensor:
    """Frames of `sequence_length` every `sequence_stride` along the last axis."""
    return convert(x).unfold(-1, sequence_length, sequence_stride)


def _complex(pair: Any) -> torch.Tensor:
    real, imag = (to_float(convert(p)) for p in pair)
    return torch.complex(real, imag)


def _pair(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return t.real.contiguous(), t.imag.contiguous()


@symbolic_op("fft")
def fft(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """FFT over the last axis of the complex number given as `(real, imag)`."""
    return _pair(torch.fft.fft(_complex(x)))


@symbolic_op("fft2")
def fft2(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """2-D FFT over the last two axes of `(real, imag)`."""
    return _pair(torch.fft.fft2(_complex(x)))


@symbolic_op("ifft2")
def ifft2(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse 2-D FFT over the last two axes of `(real, imag)`."""
    return _pair(torch.fft.ifft2(_complex(x)))


@symbolic_op("rfft")
def rfft(x: Any, fft_length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Real-input FFT over the last axis, as `(real, imag)`."""
    return _pair(torch.fft.rfft(to_float(convert(x)), n=fft_length))


@symbolic_op("irfft")
def irfft(x: Any, fft_length: int | None = None) -> torch.Tensor:
    """Inverse of `rfft`, from `(real, imag)`."""
    return torch.fft.irfft(_complex(x), n=fft_length)
