"""Sharded weights (FSDP2): full values for readers, shard-wise writes.

Under `plait.distribution.FSDP`, every weight of a layer is a `DTensor`
holding this process's rows (`Shard(0)`), and so is the optimizer state of
that weight. What reads weights as a whole (`get_weights`, `save`,
`save_weights`, optimizer state for a checkpoint) reads them through `full`,
which all-gathers the shards: a collective, so every process calls it in the
same order. A reader running on rank 0 alone (`ModelCheckpoint`) runs inside
`gathered(...)`, entered by every process: the full values are gathered once
there, and `full` answers from them without communicating. Writers
(`set_weights`, a restored optimizer state) go through `assign` and
`shard_like`, which keep this process's rows of a full value.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import torch

__all__ = [
    "assign",
    "full",
    "gathered",
    "gathered_model",
    "is_sharded",
    "shard_like",
]

# id(DTensor) -> its full value, while `gathered(...)` is open.
_gathered: dict[int, torch.Tensor] | None = None


def is_sharded(t: Any) -> bool:
    """True for a `DTensor` (a weight or state sharded across processes).

    Example:
        >>> import torch
        >>> is_sharded(torch.zeros(2))
        False
    """
    if not isinstance(t, torch.Tensor) or not torch.distributed.is_available():
        return False
    from torch.distributed.tensor import DTensor

    return isinstance(t, DTensor)


def full(t: torch.Tensor) -> torch.Tensor:
    """The whole value of `t`: `t` itself unless it is sharded.

    Example:
        >>> import torch
        >>> t = torch.ones(2)
        >>> full(t) is t
        True
    """
    if not is_sharded(t):
        return t
    if _gathered is not None and id(t) in _gathered:
        return _gathered[id(t)]
    return t.full_tensor()  # type: ignore[attr-defined, no-any-return]


@contextlib.contextmanager
def gathered(tensors: Iterable[torch.Tensor]) -> Iterator[None]:
    """Gather the full value of every sharded tensor in `tensors` once.

    Every process enters it with the same tensors in the same order; inside,
    `full` reads the gathered values without communicating, so code that runs
    on one process only (rank 0 writing a checkpoint) may read whole weights.
    Nested uses gather nothing more.
    """
    global _gathered
    if _gathered is not None:
        yield
        return
    values = {id(t): full(t).detach() for t in tensors if is_sharded(t)}
    _gathered = values
    try:
        yield
    finally:
        _gathered = None


def shard_like(value: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """`value` (whole, the same on every process) sharded as `like` is.

    Only this process's rows are kept: no communication.
    """
    from torch.distributed.tensor import DTensor

    layout = like  # a DTensor: its mesh and placements
    rows = _local_rows(value, layout)
    return DTensor.from_local(
        rows,
        layout.device_mesh,  # type: ignore[attr-defined]
        layout.placements,  # type: ignore[attr-defined]
        shape=value.shape,
        stride=value.stride(),
    )


def _local_rows(value: torch.Tensor, like: Any) -> torch.Tensor:
    from torch.distributed.tensor import Shard

    local = like.to_local()
    out = value.to(local.device, local.dtype)
    for dim, placement in enumerate(like.placements):
        if isinstance(placement, Shard):
            mesh = like.device_mesh
            parts = torch.chunk(out, mesh.size(dim), dim=placement.dim)
            index = mesh.get_local_rank(dim)
            out = parts[index] if index < len(parts) else out.narrow(0, 0, 0)
    return out.reshape(local.shape).contiguous()


def assign(param: torch.Tensor, value: torch.Tensor) -> None:
    """`param.copy_(value)` for a whole `value`, `param` sharded or not."""
    with torch.no_grad():
        if is_sharded(param):
            local = param.to_local()  # type: ignore[attr-defined]
            local.copy_(_local_rows(value, param))
        else:
            param.copy_(value.to(param.dtype))


def _model_tensors(model: Any) -> list[torch.Tensor]:
    opt = getattr(model, "optimizer", None)
    state = list(getattr(opt, "variables", None) or [])
    return [*model.parameters(), *model.buffers(), *state]


def gathered_model(model: Any) -> contextlib.AbstractContextManager[None]:
    """`gathered` over a model's weights, buffers and optimizer state when
    they are sharded (nothing to do otherwise). Every process enters it."""
    if model is None or not any(is_sharded(p) for p in model.parameters()):
        return contextlib.nullcontext()
    return gathered(_model_tensors(model))
