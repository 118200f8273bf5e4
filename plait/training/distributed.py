"""Data parallel `fit` / `evaluate` / `predict` across processes (DDP).

Active when a process group of more than one process exists (plait creates it
under torchrun, see `plait.distribution.process`). Then:

- `batch_size` is the global batch: every process walks the same global
  batches (one agreed shuffle) and computes on its slice of each, rows
  `[r * B // N ...)` split as evenly as possible.
- The training step's module is wrapped in `DistributedDataParallel` (`model`
  itself stays the plain plait model). Its gradient all-reduce is weighted by
  each slice's share of the global batch, `n_r / B`, so the update is the one
  of the global batch's mean loss even for an uneven last batch. A process
  whose slice is empty (a last batch smaller than the number of processes)
  computes one row with weight 0 and records nothing.
- Logs are global, identical on every process: the loss trackers' and
  metrics' additive states are summed over processes (one small all-reduce)
  before the results are computed, at the end of an epoch, of `evaluate`,
  and at each batch whose logs a callback (the progress bar included) may
  read on any process: then every process reads them (`refresh`), so the
  collective runs everywhere. What a custom `train_step`/`test_step` returns
  is averaged over processes (`mean_logs`).
- Random streams (Dropout masks) differ per process: when a model first
  runs across processes, rank r > 0 reseeds torch's generator with its seed
  plus r (rank 0 and a single process keep theirs).
- `predict` on arrays computes a contiguous share of the rows per process and
  gathers them, in order, on every process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from plait.distribution import process, sync

__all__ = [
    "Replica",
    "active",
    "agreed",
    "bounds",
    "epoch",
    "global_log_tensors",
    "mean_logs",
    "predict",
    "predicts_shards",
    "refresh",
    "user_step",
]


def active() -> bool:
    """True when `fit` & co. run data parallel: a group of several processes."""
    return process.ensure_initialized() and process.world_size() > 1


def bounds(n: int, world: int, rank: int) -> tuple[int, int]:
    """Rows `[lo, hi)` of `n` for process `rank` of `world`: as even as can be.

    Example:
        >>> [bounds(5, 2, r) for r in (0, 1)], bounds(1, 2, 1)
        ([(0, 3), (3, 5)], (1, 1))
    """
    base, extra = divmod(n, world)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def agreed(flag: bool) -> bool:
    """`flag`, or when parallel whether it is set on any process (a collective).

    The loops ask it once whether any process reads batch logs: reading them
    is a collective, so every process must read them at the same batches.
    """
    if not active():
        return flag
    t = torch.tensor([float(flag)], device=_comm_device())
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
    return bool(t.item())


def refresh(logs: Any) -> None:
    """Mark batch logs (`LazyLogs`) stale; when parallel, read them now, on
    every process alike (the read sums states over processes)."""
    logs.stale = True
    if active():
        logs.copy()


def mean_logs(logs: dict[str, Any]) -> dict[str, Any]:
    """Logs of floats (or nested lists) averaged over processes when parallel.

    What a custom `train_step`/`test_step` returns: every process computed
    it on its own slice; the average makes History the same everywhere.
    """
    if not active() or not logs:
        return logs
    keys = sorted(logs)  # the same order on every process
    parts = [torch.as_tensor(logs[k], dtype=torch.float64) for k in keys]
    flat = torch.cat([t.reshape(-1) for t in parts]).to(_comm_device())
    torch.distributed.all_reduce(flat)
    flat = (flat / process.world_size()).cpu()
    out, offset = {}, 0
    for k, t in zip(keys, parts):
        out[k] = flat[offset : offset + t.numel()].reshape(t.shape).tolist()
        offset += t.numel()
    return {k: out[k] for k in logs}


def _comm_device() -> torch.device:
    dist = torch.distributed
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


class _Step(torch.nn.Module):
    """The module DDP wraps: the model's forward program for one step."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, xs: list[torch.Tensor]) -> Any:
        model = self.model
        return model._local_forward(model._the_plan(), xs, True)


def _param_strides(param: torch.Tensor, grad: torch.Tensor) -> torch.Tensor | None:
    """A gradient hook: `grad` viewed with `param`'s strides when only the
    strides of size-1 dimensions differ (the same memory order), else None.

    A 1x1 convolution kernel `(out, in, 1, 1)` is both contiguous and channels
    last; on channels-last inputs the convolution's backward returns its
    gradient with channels-last strides `(in, 1, in, in)`, which DDP compares
    literally with the bucket's `(in, 1, 1, 1)` (the warning "Grad strides do
    not match bucket view strides"). Viewed alike, nothing is copied.

    Example:
        >>> p = torch.zeros(4, 3, 1, 1)
        >>> g = torch.zeros(4, 3, 1, 1).as_strided((4, 3, 1, 1), (3, 1, 3, 3))
        >>> _param_strides(p, g).stride()
        (3, 1, 1, 1)
    """
    if grad.stride() == param.stride() or grad.shape != param.shape:
        return None
    # Indices along size-1 dimensions are always 0: their strides never count.
    same = all(
        n == 1 or a == b for n, a, b in zip(grad.shape, grad.stride(), param.stride())
    )
    return grad.as_strided(grad.shape, param.stride()) if same else None


def sync_buffers(model: Any) -> None:
    """Every process takes rank 0's buffers (DDP's `broadcast_buffers`)."""
    buffers = [b for b in model.buffers() if b.numel()]
    if buffers:
        device = _comm_device()
        flat = torch.cat(
            [b.detach().reshape(-1).to(device, torch.float64) for b in buffers]
        )
        torch.distributed.broadcast(flat, 0)
        offset = 0
        with torch.no_grad():
            for b in buffers:
                b.copy_(flat[offset : offset + b.numel()].view_as(b))
                offset += b.numel()


def _weighted_allreduce(state: Replica, bucket: Any) -> torch.futures.Future[Any]:
    """DDP comm hook: sum over processes of each gradient times `n_r / B`."""
    buffer = bucket.buffer()
    if state.weight == 0.0:
        buffer.zero_()  # an empty slice's stand-in row counts for nothing
    else:
        buffer.mul_(state.weight)
    work = torch.distributed.all_reduce(buffer, async_op=True)
    return work.get_future().then(lambda fut: fut.value()[0])  # type: ignore[no-any-return]


class Replica:
    """A model's data-parallel state: its DDP module and the current slice.

    Args:
        model: The plait model (compiled, its plan built).
    """

    def __init__(self, model: Any) -> None:
        device = model._model_device()
        self.world = process.world_size()
        self.rank = process.rank()
        self.weight = 1.0 / self.world
        self.empty = False
        self.lockstep = False  # FSDP: processes must run the same batches
        hooked = model.__dict__.setdefault("_stride_hooked", set())
        for p in model.parameters():
            if p.requires_grad and p.dim() > 1 and 1 in p.shape and id(p) not in hooked:
                hooked.add(id(p))
                p.register_hook(functools.partial(_param_strides, p))
        self.ddp = torch.nn.parallel.DistributedDataParallel(
            _Step(model),
            device_ids=[device] if device.type == "cuda" else None,
            static_graph=True,  # unused weights (outputs without loss) are fine
            gradient_as_bucket_view=True,  # no copy back from the bucket
        )
        # A lambda: DDP checks hook annotations against classes, not strings.
        self.ddp.register_comm_hook(
            self, lambda state, bucket: _weighted_allreduce(state, bucket)
        )

    def adapt(self, plan: Any) -> Any:
        """The step plan to run with this replica (FSDP changes it)."""
        return plan

    def __call__(self, xs: list[torch.Tensor]) -> Any:
        return self.ddp(xs)

    def slice(self, batch: Any) -> Any:
        """This process's part of a global batch `(xs, ys, sws)`; sets the weight.

        A batch `(xs, ys, sws, n)` holds this process's rows already, of a
        global batch of `n` (array data gathers only those, `narrow`).
        """
        whole = len(batch) == 3
        *batch, n = batch if not whole else (*batch, None)
        if n is None:
            n = int(batch[0][0].shape[0]) if batch[0] else 0
        lo, hi = bounds(n, self.world, self.rank)
        self.empty = hi == lo
        self.weight = (hi - lo) / n if n else 0.0
        if whole:
            lo, hi = (n - 1, n) if self.empty else (lo, hi)  # stand-in: weight 0
            batch = [[None if t is None else t[lo:hi] for t in f] for f in batch]
        return tuple(batch)


def narrow(index: Any, world: int, rank: int) -> tuple[Any, int]:
    """`(rows of process `rank`, global batch size)` of a batch's index (a slice
    or an index tensor): what `ArrayBatches` gathers for this process alone.

    Example:
        >>> narrow(slice(8, 13), 2, 1), narrow(torch.tensor([7]), 2, 1)[0].tolist()
        ((slice(11, 13, None), 5), [7])
    """
    n = index.numel() if isinstance(index, torch.Tensor) else index.stop - index.start
    lo, hi = bounds(n, world, rank)
    if hi == lo:
        lo, hi = n - 1, n  # a stand-in row, weighted 0 and not recorded
    if isinstance(index, torch.Tensor):
        return index[lo:hi], n
    return slice(index.start + lo, index.start + hi), n


def _replica(model: Any) -> Replica:
    plan = model._the_plan()
    if plan.shard is None:
        from plait.distribution import FSDP, distribution
        from plait.training.fsdp import Sharded

        config = distribution()
        shard: Replica
        if isinstance(config, FSDP):
            # Sharded once; a new plan (a second compile) keeps the shards.
            shard = model.__dict__.get("_sharded") or Sharded(model, config)
        else:
            shard = Replica(model)
        # `jit_compile`'s step (training/jit.py) knows it runs data parallel.
        plan = dataclasses.replace(shard.adapt(model._the_plan()), shard=shard)
        model._plan = plan
        sync.offset_random_stream()  # Dropout masks differ from rank to rank
    return plan.shard  # type: ignore[no-any-return]


def epoch(model: Any, source: Any) -> Iterator[Any]:
    """The batches of one epoch of `source`: this process's slices when parallel.

    Array sources shuffle with a generator seeded alike on every process,
    from rank 0's random stream at the start of each epoch: all processes
    walk the same global batches, and a run resumed at an epoch boundary
    (`BackupAndRestore` restores rank 0's stream) shuffles as the
    uninterrupted one did.
    """
    if not active():
        yield from source.epoch()
        return
    if hasattr(source, "generator") and getattr(source, "shuffle", False):
        seed = torch.randint(0, 2**62, (1,)).to(_comm_device())
        torch.distributed.broadcast(seed, 0)
        if source.generator is None:  # reseeded in place: the batch order holds it
            source.generator = torch.Generator(device=source.device)
        source.generator.manual_seed(int(seed.item()))
    replica: Replica | None = None
    world, rank = process.world_size(), process.rank()
    if hasattr(source, "narrow"):  # arrays: gather (and copy) this process's rows
        source.narrow = lambda index: narrow(index, world, rank)
    try:
        for batch in source.epoch():
            replica = _replica(model)
            yield replica.slice(batch)
    finally:
        if hasattr(source, "narrow"):
            source.narrow = None
        if replica is not None:
            replica.weight, replica.empty = 1.0 / replica.world, False


def user_step(model: Any) -> contextlib.AbstractContextManager[None]:
    """Around a custom `train_step` under DDP: gradients that it computes with
    its own `backward()` are averaged over the processes before an optimizer
    of plait's applies them (`sync.user_gradients`). Under FSDP the sharded
    layers' hooks reduce them already; in one process nothing changes."""
    plan = model._plan
    shard = None if plan is None else plan.shard
    if type(shard) is not Replica:  # None, or FSDP's Sharded
        return contextlib.nullcontext()
    return sync.user_gradients(shard.weight)


def global_log_tensors(model: Any) -> dict[str, torch.Tensor]:
    """The model's logs with every process's loss and metric states summed."""
    plan = model._plan
    if plan is None or plan.shard is None:
        return model._log_tensors()  # type: ignore[no-any-return]
    for slot in plan.metrics.slots:
        slot.flush()
    metrics = plan.metrics.metrics
    states = [(m, k, m.state(k)) for m in metrics for k in list(m._state_shapes)]
    trackers = [t for t in [plan.loss_tracker, *plan.trackers] if t is not None]
    device = _comm_device()
    parts = [s.detach().reshape(-1).to(device, torch.float64) for _, _, s in states]
    parts += [
        torch.stack(
            [
                torch.zeros((), dtype=torch.float64, device=device)
                if t.total is None
                else t.total.detach().to(device, torch.float64),
                torch.tensor(float(t.count), dtype=torch.float64, device=device),
            ]
        )
        for t in trackers
    ]
    flat = torch.cat(parts) if parts else torch.zeros(0, dtype=torch.float64)
    torch.distributed.all_reduce(flat)
    # Swapped in place: a custom metric's `result()` reads its variables.
    saved_states = [s.data for _, _, s in states]
    saved_trackers = [(t.total, t.count) for t in trackers]
    offset = 0
    for _, _, s in states:
        size = s.numel()
        s.data = flat[offset : offset + size].reshape(s.shape).to(s.device, s.dtype)
        offset += size
    for t in trackers:
        t.total = flat[offset].to(torch.float32)
        t.count = round(float(flat[offset + 1]))
        offset += 2
    try:
        return {k: v.clone() for k, v in model._log_tensors().items()}
    finally:
        for (_, _, s), saved in zip(states, saved_states):
            s.data = saved
        for t, (total, count) in zip(trackers, saved_trackers):
            t.total, t.count = total, count


def predicts_shards(model: Any) -> bool:
    """Whether `predict` on arrays should share the rows among processes."""
    return not model.__dict__.get("_predicting_shard") and active()


def predict(
    model: Any, x: Any, batch_size: int, verbose: Any, steps: Any, callbacks: Any
) -> Any:
    """`model.predict` on this process's contiguous share of the rows of `x`,
    gathered in order on every process."""
    from plait.training import data as data_utils
    from plait.utils import tree

    xs = model._prepare_x(x, on_host=True)  # each process copies its rows only
    n = data_utils.num_samples(xs, f"Model {model.name!r}.predict(x)")
    if steps is not None:
        n = min(n, steps * batch_size)
    world = process.world_size()
    lo, hi = bounds(n, world, process.rank())
    keep = hi - lo
    if not keep:
        lo, hi = 0, 1  # predict one row for the output structure, keep none
    rows = torch.arange(lo, hi)
    plan = model._plan
    if plan is not None and plan.shard is not None and plan.shard.lockstep:
        # FSDP gathers each layer's weights in every batch: every process runs
        # as many batches (its last row repeated), and keeps its own rows.
        rows = torch.cat([rows, rows[-1:].repeat(-(-n // world) - len(rows))])

    def part(t: torch.Tensor) -> torch.Tensor:
        return t[rows.to(t.device)]

    model.__dict__["_predicting_shard"] = True
    try:
        out = model.predict(
            tree.map_structure(part, xs),
            batch_size=batch_size,
            verbose=verbose,
            callbacks=callbacks,
        )
    finally:
        model.__dict__["_predicting_shard"] = False
    flat = [o[:keep] for o in tree.flatten(out)]
    gathered: list[Any] = [None] * world
    torch.distributed.all_gather_object(gathered, flat)
    joined = [np.concatenate([g[i] for g in gathered]) for i in range(len(flat))]
    return tree.pack_like(out, joined)
