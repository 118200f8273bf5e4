"""Sharded data parallel training (FSDP2) under `plait.distribution.FSDP()`.

The first `fit`/`evaluate` batch across processes shards the model in place
with torch's `fully_shard`:

- rank 0's weights and buffers are broadcast first, so every process starts
  from the same model, as under DDP;
- each layer that owns weights (found top-down: the first layer on a path
  that has any) becomes one FSDP unit, each nested model another (after its
  layers), and a root module around the model's step program the last;
- the classes `fully_shard` swaps in are swapped back: `model` and its layers
  stay the user's plain plait objects (FSDP works through module hooks, which
  the generated program runs, see `plait.models.executor`);
- the layers' weight records, the generated programs and the optimizer are
  rebuilt on the sharded (`DTensor`) parameters; an optimizer state already
  there (a loaded model, a restored backup) is sharded alike.

The global-batch semantics are the data parallel ones (`distributed.py`): FSDP
averages gradients over processes, so each process's gradients are scaled by
`N * n_r / B` on the way back from its outputs, which makes the update the
global batch's mean, an uneven or empty slice included.

Weight regularizers and constraints see whole weights, as in one process:

- a regularizer is computed on the full weight, all-gathered
  (`DTensor.full_tensor`, differentiable) inside the step, on every process
  alike. Its gradient reaches each process's own rows directly (the
  gather's backward keeps the local rows, no reduction), added once to the
  averaged gradient FSDP reduce-scatters: the update of the single-process
  loss. Computing it on the local rows and summing over processes would
  hold for sums of elementwise terms (L1, L2) only, not for any regularizer;
- a constraint is applied after the update: an elementwise one (`NonNeg`)
  to each process's rows, any other (a norm over axes, a custom one) to the
  full weight, gathered, each process keeping its rows of the result.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from plait.distribution import process
from plait.training.distributed import Replica, _Step

__all__ = ["Sharded"]


class _ScaleGrad(torch.autograd.Function):
    """Identity forward; the gradient times `factor` backward."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, factor: float) -> torch.Tensor:
        ctx.factor = factor
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad * ctx.factor, None


def _is_model(module: torch.nn.Module) -> bool:
    return callable(getattr(module, "_the_plan", None))


def _units(module: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """The modules to shard, innermost first: the layers with weights, then
    each nested model after its own layers."""
    for child in module.children():
        if _is_model(child):
            yield from _units(child)
            yield child
        elif any(True for _ in child.parameters()):
            yield child


def _fully_shard(module: torch.nn.Module, reshard: bool) -> None:
    from torch.distributed.fsdp import fully_shard

    cls = type(module)
    fully_shard(module, reshard_after_forward=reshard)
    module.__class__ = cls  # keep the user's class; FSDP acts through hooks


def _broadcast(model: torch.nn.Module) -> None:
    """Every process takes rank 0's weights and buffers."""
    with torch.no_grad():
        for t in [*model.parameters(), *model.buffers()]:
            torch.distributed.broadcast(t.data, 0)


def _rekey(
    model: torch.nn.Module, before: dict[int, tuple[Any, str]]
) -> dict[int, Any]:
    """Point the layers' weight records, regularizers and constraints at the
    parameters FSDP put in place; returns `{id(old): new}`."""
    old_to_new = {
        id_p: m._parameters[name]
        for id_p, (m, name) in before.items()
        if m._parameters.get(name) is not None
    }
    for module in model.modules():
        info = module.__dict__.get("_weight_info")
        if isinstance(info, dict):
            module._weight_info = {  # type: ignore[assignment]
                old_to_new.get(id(p), p): v for p, v in info.items()
            }
        for key in ("_regularizers", "_constraints"):
            pairs = module.__dict__.get(key)
            if isinstance(pairs, list):
                pairs[:] = [(old_to_new.get(id(p), p), fn) for p, fn in pairs]
    return old_to_new


class _Gathered:
    """A regularizer of a sharded weight: `fn` of the whole weight (in Keras
    layout when `to_keras` is given), gathered differentiably."""

    def __init__(self, fn: Any, layout: Any) -> None:
        self.fn, self.layout = fn, layout

    def __call__(self, p: Any) -> torch.Tensor:
        full = p.full_tensor()
        return self.fn(full if self.layout is None else self.layout[0](full))  # type: ignore[no-any-return]


class _Projected:
    """A constraint of a sharded weight: the process's rows of `fn` applied
    to them alone (elementwise) or to the whole weight, gathered."""

    def __init__(self, fn: Any, layout: Any) -> None:
        from plait.constraints import NonNeg

        self.fn, self.layout = fn, layout
        self.elementwise = type(fn) is NonNeg

    def __call__(self, p: Any) -> Any:
        from torch.distributed.tensor import DTensor, distribute_tensor

        if self.elementwise:
            local = self.fn(p.to_local())
            return DTensor.from_local(
                local, p.device_mesh, p.placements, shape=p.shape, stride=p.stride()
            )
        w = p.full_tensor()
        lay = self.layout
        w = self.fn(w) if lay is None else lay[1](self.fn(lay[0](w)))
        # Every process holds the same result: each keeps its rows, no message.
        return distribute_tensor(w, p.device_mesh, p.placements, src_data_rank=None)


def _sharded_weight_fns(plan: Any) -> Any:
    """`plan` with its regularizers and constraints acting on whole weights."""
    regs = tuple(
        (p, fn if isinstance(fn, _Gathered) else _Gathered(fn, lay), None)
        for p, fn, lay in plan.regularizers
    )
    cons = tuple(
        (p, fn if isinstance(fn, _Projected) else _Projected(fn, lay), None)
        for p, fn, lay in plan.constraints
    )
    return _replace(plan, regularizers=regs, constraints=cons)


class Sharded(Replica):
    """A model's FSDP state: the sharded root module and the current slice.

    Args:
        model: The plait model (compiled, its plan built).
        config: The `plait.distribution.FSDP` in force.
    """

    def __init__(self, model: Any, config: Any) -> None:
        plan = model._the_plan()
        self.world = process.world_size()
        self.rank = process.rank()
        self.weight = 1.0 / self.world
        self.empty = False
        self.lockstep = True
        opt = model.optimizer
        state = opt.state_dict() if opt is not None and opt.built else None
        _broadcast(model)
        before = {
            id(p): (m, name)
            for m in model.modules()
            for name, p in m._parameters.items()
            if p is not None
        }
        reshard = config.reshard_after_forward
        for unit in _units(model):
            _fully_shard(unit, reshard)
        self.root = _Step(model)
        _fully_shard(self.root, reshard)
        from torch.distributed.fsdp import fully_shard

        # The root is the module every step runs through; say so before any
        # other unit runs alone (an `evaluate` or `predict` first).
        fully_shard.state(self.root)._lazy_init()  # type: ignore[attr-defined]
        new = _rekey(model, before)
        for module in model.modules():
            if isinstance(module.__dict__.get("_programs"), dict):
                module._programs = {}  # rebuilt: the layers have hooks now
                module.__dict__.pop("_fast", None)
        logits = frozenset(o.index for o in plan.entries if o.activation is not None)
        program = model._training_program(logits)
        if program is not None:
            model._plan = _replace(model._plan, program=program[0])
        # The plan's weights are the sharded ones from now on.
        model._plan = _replace(
            model._plan,
            regularizers=tuple((new[id(p)], *rest) for p, *rest in plan.regularizers),
            constraints=tuple((new[id(p)], *rest) for p, *rest in plan.constraints),
        )
        if opt is not None:
            opt.build(list(model.parameters()))
            if state is not None:
                opt.load_state_dict(state)
        model.__dict__["_sharded"] = self

    def adapt(self, plan: Any) -> Any:
        """`plan` with regularizers and constraints on whole weights."""
        return _sharded_weight_fns(plan)

    def __call__(self, xs: list[torch.Tensor]) -> Any:
        outs, masks = self.root(xs)
        factor = self.world * self.weight
        if factor != 1.0:
            outs = [
                _ScaleGrad.apply(o, factor)
                if isinstance(o, torch.Tensor) and o.requires_grad
                else o
                for o in outs
            ]
        return outs, masks


def _replace(plan: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(plan, **changes)
