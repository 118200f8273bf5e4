"""Statistics over every process: SyncBatchNorm's moments, per-rank random
streams, and the gradients of a custom `train_step` that calls `backward()`.

`BatchNormalization(synchronized=True)` (Keras 3's argument) computes its
training statistics over the whole global batch: each process sums its rows
(`sum`, `sum of squares`, `count` per channel), the sums are all-reduced, and
the mean and (biased) variance come from the totals. The all-reduce is
differentiable, so gradients reach every process's rows as in torch's
`SyncBatchNorm`. In one process nothing changes.

A custom `train_step` that runs the model and calls `backward()` itself (as
Keras's torch guides do) computes gradients of its own slice only: DDP never
saw that forward. Within `user_gradients(weight)`, which `fit` enters around
such a step, plait's optimizers first average the gradients over the
processes, each weighted by its slice's share of the global batch (`n_r / B`,
the weighting of plait's own step), so every process applies the same update.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable

import torch

from plait.distribution import process
from plait.utils.scoped import thread_value

__all__ = [
    "active",
    "average_gradients",
    "global_moments",
    "offset_random_stream",
    "own_gradients",
    "user_gradients",
]

# `weight`: the share of the global batch of this process's slice while a
# custom `train_step` runs across processes; None (unset) otherwise.
_STEP = threading.local()


def active() -> bool:
    """True when a process group of more than one process exists.

    Example:
        >>> active()
        False
    """
    dist = torch.distributed
    return bool(dist.is_available() and dist.is_initialized()) and (
        process.world_size() > 1
    )


def global_moments(
    inputs: torch.Tensor, dims: list[int], weight: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """`(mean, biased variance)` over `dims` of every process's `inputs`.

    Args:
        inputs: This process's rows.
        dims: The reduced dims (all but the channel axis); kept as size 1.
        weight: Optional 0/1 weights shaped like `inputs` (a mask).
    """
    x = inputs.to(torch.float64)  # sums of squares lose less in float64
    if weight is None:
        total = x.sum(dim=dims, keepdim=True)
        squares = x.square().sum(dim=dims, keepdim=True)
        count = torch.full_like(total, x.numel() // max(total.numel(), 1))
    else:
        w = weight.to(torch.float64)
        count = w.sum(dim=dims, keepdim=True)
        total = (x * w).sum(dim=dims, keepdim=True)
        squares = (x.square() * w).sum(dim=dims, keepdim=True)
    from torch.distributed.nn.functional import all_reduce

    sums = all_reduce(torch.stack([total, squares, count]))
    n = sums[2].clamp(min=1e-7)  # an all-masked channel stays finite
    mean = sums[0] / n
    var = (sums[1] / n - mean.square()).clamp(min=0.0)
    return mean.to(inputs.dtype), var.to(inputs.dtype)


def offset_random_stream() -> None:
    """Reseed torch's generator with its seed plus this process's rank.

    Called when a model first runs across processes (acts once per process), so Dropout & co. draw
    different masks on every process even when all were seeded alike (rank 0
    keeps its stream, as does a single process).
    """
    global _offset
    r = process.rank()
    if r and not _offset:
        torch.manual_seed((torch.initial_seed() + r) % 2**63)
    _offset = True


_offset = False  # once per process


def user_gradients(weight: float) -> contextlib.AbstractContextManager[None]:
    """Within: optimizers average `.grad` over the processes before updating.

    Args:
        weight: This process's share of the global batch, `n_r / B`.
    """
    return thread_value(_STEP, "weight", float(weight))


def own_gradients() -> contextlib.AbstractContextManager[None]:
    """Within: no averaging (plait's own step, whose gradients DDP reduced)."""
    return thread_value(_STEP, "weight", None)


def average_gradients(params: Iterable[torch.Tensor]) -> None:
    """Inside `user_gradients`: each `.grad` becomes `sum_r weight_r * grad_r`.

    One all-reduce per dtype and device. Every process must pass the same
    parameters; a gradient that is None here takes part as zeros and stays
    None. Outside `user_gradients`, or in one process, nothing happens.

    Example:
        >>> p = torch.nn.Parameter(torch.ones(2)); p.grad = torch.ones(2)
        >>> with user_gradients(0.5):
        ...     average_gradients([p])  # one process: unchanged
        >>> p.grad
        tensor([1., 1.])
    """
    weight = getattr(_STEP, "weight", None)
    if weight is None or not active():
        return
    groups: dict[tuple[torch.dtype, torch.device], list[torch.Tensor]] = {}
    for p in params:
        groups.setdefault((p.dtype, p.device), []).append(p)
    for (dtype, device), ps in sorted(groups.items(), key=lambda kv: str(kv[0])):
        flat = torch.cat(
            [
                torch.zeros(p.numel(), dtype=dtype, device=device)
                if p.grad is None
                else p.grad.detach().reshape(-1).to(dtype) * weight
                for p in ps
            ]
        )
        torch.distributed.all_reduce(flat)
        offset = 0
        for p in ps:
            if p.grad is not None:
                p.grad.copy_(flat[offset : offset + p.numel()].view_as(p.grad))
            offset += p.numel()
