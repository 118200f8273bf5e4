"""Statistics over every process: SyncBatchNorm's moments, per-rank random streams.

`BatchNormalization(synchronized=True)` (Keras 3's argument) computes its
training statistics over the whole global batch: each process sums its rows
(`sum`, `sum of squares`, `count` per channel), the sums are all-reduced, and
the mean and (biased) variance come from the totals. The all-reduce is
differentiable, so gradients reach every process's rows as in torch's
`SyncBatchNorm`. In one process nothing changes.
"""

from __future__ import annotations

import torch

from plait.distribution import process

__all__ = ["active", "global_moments", "offset_random_stream"]


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
