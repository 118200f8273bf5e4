"""The train step under `compile(jit_compile=True)`: what `torch.compile` gets to see.

Measured on a CPU (`bench/RESULTS.md`), compiling `Model.__call__` alone is
slower than eager on small models, and `torch.compile` of a step that calls
`loss.backward()` splits at the backward call and keeps the autograd engine and
the optimizer's Python in the loop. What pays is one graph for the whole step:
`JitStep` differentiates the model's forward program with `torch.func` (so
forward, loss and backward trace into one graph, `fullgraph=True`) and, when
the optimizer's rule takes gradients as values (plait's RMSprop) with constant
hyperparameters, traces the update into the same graph, where inductor fuses it
with the backward pass (2.2x the eager step on the guide's MLP). Weight
regularizers' penalties are computed from the tensors being differentiated, so
they are in the graph too (with L2 on every kernel, 2.0x the step that compiles
the update alone: `bench/regularized.py`).

Models with recurrent layers keep their forward and backward eager on torch's
fused LSTM/GRU kernels by default: tracing them unrolls one cell per time step,
which runs faster (1.4x on the guide's headline model) but compiles for minutes
(`MAX_UNROLLED_STEPS`). Their optimizer update (a single fused pass over the
weights instead of five) is compiled alone.

Under data parallel (DDP, `plait.training.distributed`) the graph computes
each process's gradients of its slice; they are then all-reduced eagerly,
weighted by each slice's share of the global batch as DDP's hook does, in one
flat buffer, and the update runs after (compiled alone when it can be): the
same update as the eager DDP step. The update mode runs its eager forward and
backward through the DDP module. Under FSDP the step stays eager (a one-time
warning says so): the sharded parameters are gathered and freed by module
hooks around each layer, which `torch.func` does not run.

Compilation is per input signature (shapes and dtypes of the batch), static
shapes, at most `MAX_SIGNATURES` of them. A batch smaller than the first one (the
last, partial batch of an epoch) runs the eager step, which computes the same
update, instead of compiling again: an epoch compiles once. Compile time is
kept per signature in `compile_seconds`. If tracing fails, plait warns once and
trains eagerly.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from typing import Any

import torch

__all__ = ["MAX_SIGNATURES", "JitStep"]

MAX_SIGNATURES = 4  # distinct full-size batch signatures compiled per model

# Recurrent layers are traced into the graph (unrolled, one copy of the cell per
# time step) only when all their calls together run at most this many steps.
# Unrolled, the guide's headline model (LSTM over 100 steps) trains 1.35-1.45x
# faster than with the update-only compile (bench/RESULTS.md) but its first
# compile takes 178 s on a 2-core CPU instead of 12 s (4-6 s from inductor's
# warm disk cache), so by default recurrent models compile the update only;
# raise it to trade compile time for speed.
MAX_UNROLLED_STEPS = 0


def _unrolled_steps(model: Any) -> float:
    """Time steps all recurrent layer calls of `model` run (inf if unknown)."""
    from plait.layers.rnn import RNN

    total = 0.0
    for layer in model._all_sublayers():
        if not isinstance(layer, RNN):
            continue
        nodes = layer._inbound_nodes
        if not nodes:
            return math.inf  # called inside another layer (a wrapper)
        for node in nodes:
            shape = node.input_tensors[0].shape if node.input_tensors else ()
            steps = shape[1] if len(shape) > 2 else None
            total += math.inf if steps is None else steps
    return total


def _signature(tensors: list[Any]) -> tuple[Any, ...]:
    return tuple(None if t is None else (tuple(t.shape), t.dtype) for t in tensors)


class _LossModule(torch.nn.Module):
    """`(xs, ys, sws) -> (total loss, (values, outputs, masks))` of a model.

    A module around the model so that `torch.func.functional_call` can swap
    the model's parameters for the tensors being differentiated.
    """

    def __init__(self, model: Any, plan: Any) -> None:
        super().__init__()
        self.model = model
        self.plan = plan

    def forward(self, xs: list[Any], ys: list[Any], sws: list[Any]) -> Any:
        model = self.model
        plan = self.plan
        # Never through DDP: the gradients are all-reduced after the graph.
        outs, masks = model._local_forward(plan, xs, True)
        total, values = model._total_loss(plan, outs, masks, ys, sws)
        if total is None:
            raise ValueError("internal: no loss to differentiate.")
        # torch.func's auxiliary outputs must be tensors: an empty one for None.
        holes = [_NONE if m is None else m for m in masks or []]
        return total, (values, outs, holes)


_NONE = torch.empty(0, dtype=torch.uint8)  # stands for a missing mask


def _masks(holes: list[torch.Tensor], with_masks: bool) -> list[Any] | None:
    """Undo `_LossModule`'s placeholders: None where an output has no mask."""
    if not with_masks:
        return None
    return [None if m.dtype == torch.uint8 and m.numel() == 0 else m for m in holes]


def _parallel(model: Any) -> str | None:
    """How `model` trains across processes: `"ddp"`, `"fsdp"` or None (one)."""
    from plait.distribution import FSDP, distribution
    from plait.training import distributed

    if not distributed.active():
        return None
    shard = model._plan.shard
    sharded = shard.lockstep if shard is not None else isinstance(distribution(), FSDP)
    return "fsdp" if sharded else "ddp"


class JitStep:
    """A model's compiled train step: `step(xs, ys, sws) -> (total, values, outs, masks)`.

    Args:
        model: A compiled plait model whose step plan is built.

    Attributes:
        mode: `"graph"` (forward, loss and backward in one compiled graph) or
            `"update"` (eager forward and backward; the optimizer update is
            compiled when it takes gradients as values, else all is eager).
        fused_update: Whether the optimizer update is in the same graph.
        compile_seconds: Seconds the first call of each compiled signature took.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        plan = model._plan
        opt = model.optimizer
        names = {id(p): name for name, p in model.named_parameters()}
        self.params = list(opt._params)
        self.names = [f"model.{names.get(id(p))}" for p in self.params]
        unrolled = _unrolled_steps(model) <= MAX_UNROLLED_STEPS
        own = all(id(p) in names for p in self.params)  # else not differentiable
        # Everything else the forward reads and may update in place (moving
        # statistics): inputs of the differentiated function, not captures.
        trained = {id(p) for p in self.params}
        self.frozen = {
            f"model.{name}": t
            for name, t in [*model.named_parameters(), *model.named_buffers()]
            if id(t) not in trained
        }
        # An override of `compute_loss` runs the eager step (`_core`).
        custom_loss = model._overridden("compute_loss")
        graph = plan.program is not None and unrolled and own and not custom_loss
        graph = graph and bool(self.params)  # nothing to train: the eager step warns
        self.mode = "graph" if graph else "update"
        self.fused_update = opt._takes_gradients() and not custom_loss
        self.parallel = _parallel(model)  # "ddp", "fsdp" or None
        # mixed_float16: differentiate the scaled loss (`LossScaleOptimizer`).
        self._scale_loss = getattr(opt, "scale_loss", None)
        self.compile_seconds: dict[tuple[Any, ...], float] = {}
        self.batch_size: int | None = None
        self.failed = False
        self._fn: Any = None
        self._update: Any = None
        if self.parallel == "fsdp":
            warnings.warn(
                f"Model {model.name!r}: compile(jit_compile=True) under FSDP() "
                "trains eagerly: torch.compile does not trace the sharded step.",
                UserWarning,
                stacklevel=4,
            )
        elif self.mode == "graph":
            # Weight penalties read the differentiated tensors, not the
            # Parameters the plan holds: added in `_loss`, not in the module.
            self._penalties = [
                (f"model.{names[id(p)]}", fn, layout)
                for p, fn, layout in plan.regularizers
            ]
            no_penalty = dataclasses.replace(plan, regularizers=())
            self._loss_module = _LossModule(model, no_penalty)
            self._fn = torch.compile(self._graph_step, fullgraph=True, dynamic=False)
            if self.parallel and self.fused_update:  # after the all-reduce
                self._update = torch.compile(opt._apply_gradients, dynamic=False)
        elif self.fused_update:
            self._fn = torch.compile(opt._apply_gradients, dynamic=False)

    # ------------------------------------------------------------------ steps
    def _loss(
        self,
        params: dict[str, torch.Tensor],
        frozen: dict[str, torch.Tensor],
        xs: Any,
        ys: Any,
        sws: Any,
    ) -> Any:
        module = self._loss_module
        total, aux = torch.func.functional_call(module, (params, frozen), (xs, ys, sws))
        for name, fn, layout in self._penalties:
            w = params[name] if name in params else frozen[name]
            total = (
                total + torch.as_tensor(fn(w if layout is None else layout[0](w))).sum()
            )
        scale = self._scale_loss
        return (total if scale is None else scale(total)), (total, aux)

    def _graph_step(self, xs: Any, ys: Any, sws: Any) -> Any:
        params = {n: p.detach() for n, p in zip(self.names, self.params)}
        grad_fn = torch.func.grad_and_value(self._loss, has_aux=True)
        grads, (_, (total, (values, outs, masks))) = grad_fn(  # total: unscaled
            params, self.frozen, xs, ys, sws
        )
        ordered = [grads.get(n) for n in self.names]
        if self.fused_update and not self.parallel:
            self.model.optimizer._apply_gradients(ordered)
            ordered = []
        return total, values, outs, masks, ordered

    def _all_reduce(self, grads: list[Any]) -> list[Any]:
        """DDP's reduction of the graph's gradients: the sum over processes of
        each slice's gradients times its share of the global batch, in one
        flat buffer; rank 0's buffers (moving statistics) first, as DDP does
        before each forward."""
        from plait.training.distributed import sync_buffers

        shard = self.model._plan.shard
        sync_buffers(self.model)
        flat = torch.cat([g.reshape(-1) for g in grads])
        flat.mul_(0.0 if shard.empty else shard.weight)
        torch.distributed.all_reduce(flat)
        return [
            part.view_as(g)
            for part, g in zip(flat.split([g.numel() for g in grads]), grads)
        ]

    def _run(self, xs: Any, ys: Any, sws: Any) -> Any:
        opt = self.model.optimizer
        if self.mode == "graph":
            total, values, outs, holes, grads = self._fn(xs, ys, sws)
            masks = _masks(holes, self.model._plan.with_masks)
            if self.parallel:
                grads = self._all_reduce(grads)
            if self._update is not None:
                self._update(grads)
            if self.fused_update:
                opt._iterations += 1
            else:  # the update eagerly (a schedule, Adam's per-step epsilon, ...)
                for p, g in zip(self.params, grads):
                    p.grad = g
                opt.step()
            return total, values, outs, masks
        if not self.fused_update:
            return self.model._core(xs, ys, sws)
        plan = self.model._plan
        opt.zero_grad(set_to_none=True)
        outs, masks = self.model._forward(plan, xs, True)
        total, values = self.model._total_loss(plan, outs, masks, ys, sws)
        if total is None:
            return self.model._core(xs, ys, sws)  # raises the usual error
        total.backward()
        self._fn([p.grad for p in self.params])
        opt._iterations += 1
        return total, values, outs, masks

    def __call__(self, xs: list[Any], ys: list[Any], sws: list[Any]) -> Any:
        eager = self.model._core
        if self.failed or self._fn is None:
            return eager(xs, ys, sws)
        sig = _signature([*xs, *ys, *sws])
        if sig in self.compile_seconds:
            return self._run(xs, ys, sws)
        batch = int(xs[0].shape[0]) if xs and xs[0].dim() else None
        if self.batch_size is None:
            self.batch_size = batch
        elif len(self.compile_seconds) >= MAX_SIGNATURES or (
            batch is not None
            and self.batch_size is not None
            and batch < self.batch_size
        ):
            return eager(xs, ys, sws)  # same update, no new compilation
        start = time.perf_counter()
        try:
            result = self._run(xs, ys, sws)
        except Exception as err:
            warnings.warn(
                f"compile(jit_compile=True): torch.compile failed "
                f"({type(err).__name__}: {str(err)[:200]}); training eagerly.",
                UserWarning,
                stacklevel=4,
            )
            self.failed = True
            return eager(xs, ys, sws)
        self.compile_seconds[sig] = time.perf_counter() - start
        return result
