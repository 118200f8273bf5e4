"""torch's fused RNN kernels (`torch.lstm`, `torch.gru`, `torch.rnn_tanh`, ...) over
whole, or right-padded (packed), sequences; what `RNN` and `Bidirectional` run when
a built-in cell's configuration allows it."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from plait import activations

__all__ = ["call_fused_kernel", "fused_sequence"]

Tensor = torch.Tensor
# The activations a fused kernel computes, as a cell may hold them.
_TANH = (activations.tanh, torch.tanh, F.tanh)
_SIGMOID = (activations.sigmoid, torch.sigmoid, F.sigmoid)
_RELU = (activations.relu, torch.relu, F.relu)
_CUDNN_WEIGHTS_WARNING = ".*RNN module weights are not part of single contiguous.*"


def call_fused_kernel(
    kernel: Callable[..., Any],
    inputs: Tensor,
    batch_sizes: Tensor | None,
    hx: list[Tensor],
    params: list[Tensor],
    has_bias: bool,
    bidirectional: bool = False,
) -> tuple[Tensor, list[Tensor]]:
    """Run `torch.lstm` / `torch.gru` / `torch.rnn_tanh` / `torch.rnn_relu` once.

    Args:
        kernel: One of the four torch functions.
        inputs: `(batch, time, features)`, or a packed sequence's data.
        batch_sizes: The packed sequence's batch sizes, or None.
        hx: Initial states, each `(directions, batch, units)`; `[h, c]` for LSTM.
        params: `w_ih, w_hh[, b_ih, b_hh]` per direction, torch's layout and order.
        has_bias: Whether `params` holds biases.
        bidirectional: Both directions in one call (params of the backward one last).

    Returns:
        The outputs `(batch, time, directions * units)` (or packed data) and the
        final states, each `(directions, batch, units)`.
    """
    train = torch.is_grad_enabled()
    args: tuple[Any, ...] = (params, has_bias, 1, 0.0, train, bidirectional)
    state: Any = hx if kernel is torch.lstm else hx[0]
    extra = (True,) if batch_sizes is None else ()  # batch_first, unpacked only
    lead = (inputs,) if batch_sizes is None else (inputs, batch_sizes)
    if not inputs.is_cuda and torch.is_autocast_enabled("cpu"):
        # Mixed precision on CPU: oneDNN's half-precision LSTM fails on some CPUs
        # and in training, so the fused kernels run in float32 (the layer casts
        # its outputs to its compute dtype).
        with torch.autocast("cpu", enabled=False):
            return call_fused_kernel(
                kernel,
                inputs.float(),
                batch_sizes,
                [h.float() for h in hx],
                [p.float() for p in params],
                has_bias,
                bidirectional,
            )
    if not inputs.is_cuda:
        result = kernel(*lead, state, *args, *extra)
    else:
        with warnings.catch_warnings():
            # cuDNN copies weights that are not one flat buffer (as for Keras's).
            warnings.filterwarnings("ignore", _CUDNN_WEIGHTS_WARNING, UserWarning)
            result = kernel(*lead, state, *args, *extra)
    return result[0], list(result[1:])


def _right_padded_lengths(mask: Tensor) -> Tensor | None:
    """Lengths (int64, on CPU) if each row is `[True]*n + [False]*m` with n > 0."""
    lengths = mask.sum(dim=1)
    steps = torch.arange(mask.shape[1], device=mask.device)
    ok = ((steps < lengths[:, None]) == mask).all() & (lengths > 0).all()
    return lengths.cpu() if bool(ok) else None


def fused_sequence(
    kernel: Callable[..., Any],
    x: Tensor,
    lengths: Tensor | None,
    hx: list[Tensor],
    params: list[Tensor],
    bidirectional: bool = False,
    want_sequence: bool = True,
) -> tuple[Tensor | None, list[Tensor]]:
    """A fused kernel over `x` `(batch, time, features)`, right-padded to `lengths`.

    Returns the outputs `(batch, time, directions * units)` (zeros after each
    row's length; None unless `want_sequence`) and the final states, each
    `(directions, batch, units)`, taken at each row's last valid step.
    """
    has_bias = len(params) == (8 if bidirectional else 4)
    if lengths is None:
        seq, final = call_fused_kernel(
            kernel, x, None, hx, params, has_bias, bidirectional
        )
        return (seq if want_sequence else None), final
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    order, unorder = packed.sorted_indices, packed.unsorted_indices
    if order is None or unorder is None:  # pragma: no cover - enforce_sorted=False
        raise RuntimeError("pack_padded_sequence returned no sorting indices")
    hx = [h.index_select(1, order) for h in hx]
    data, final = call_fused_kernel(
        kernel, packed.data, packed.batch_sizes, hx, params, has_bias, bidirectional
    )
    final = [s.index_select(1, unorder) for s in final]
    if not want_sequence:
        return None, final
    out = PackedSequence(data, packed.batch_sizes, order, unorder)
    seq = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]
    return seq, final
