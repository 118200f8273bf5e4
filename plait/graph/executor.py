"""Turn a graph into straight-line code, once per model.

The nodes, already in execution order, become a `torch.fx.Graph` whose each
node calls one layer's `call` directly; torch.fx then generates a plain Python
function from it, which frees every intermediate right after its last use. A
forward pass is that function: no graph walk, no dictionary lookups by tensor.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.fx as fx

from plait.graph.node import Node
from plait.graph.symbolic import SymbolicTensor
from plait.utils import tree

__all__ = ["build_program"]

_SIMPLE = (type(None), bool, int, float, str, torch.dtype)


def _is_simple(value: Any) -> bool:
    return all(isinstance(v, (_SIMPLE, fx.Node)) for v in tree.flatten(value))


class _Caller:
    """Calls `fn` with non-literal constants bound, tensors passed positionally."""

    def __init__(self, fn: Callable[..., Any], args: Any, kwargs: dict[str, Any]):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.__name__ = getattr(fn, "__name__", "call")
        self.__module__ = getattr(fn, "__module__", __name__)

    def __call__(self, *values: Any) -> Any:
        it = iter(values)
        args = tree.map_structure(lambda v: next(it) if v is _SLOT else v, self.args)
        kwargs = tree.map_structure(
            lambda v: next(it) if v is _SLOT else v, self.kwargs
        )
        return self.fn(*args, **kwargs)


_SLOT = object()


def _leaf_paths(structure: Any) -> list[tuple[Any, ...]]:
    """Key paths to the leaves of `structure`, in `tree.flatten` order."""
    paths: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(structure, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(item))))
        elif isinstance(item, dict):
            stack.extend((item[k], (*path, k)) for k in reversed(list(item)))
        else:
            paths.append(path)
    return paths


def _mask_at(masks: Any, index: int) -> Any:
    """Mask of output `index` from a `compute_mask` result, as symbolic calls pair them."""
    flat = tree.flatten(masks)
    return flat[index] if index < len(flat) else None


def _select(g: fx.Graph, value: fx.Node, path: tuple[Any, ...]) -> fx.Node:
    for key in path:
        value = g.call_function(operator.getitem, (value, key))
    return value


def build_program(
    nodes: Sequence[Node],
    inputs: Sequence[SymbolicTensor],
    outputs: Sequence[SymbolicTensor],
    *,
    with_masks: bool = False,
    logits: frozenset[int] = frozenset(),
) -> Callable[..., tuple[Any, ...]]:
    """Generate the forward function of a graph.

    Args:
        nodes: The graph's nodes in execution order (`Topology.nodes`).
        inputs: The graph's input tensors; the function takes one argument each,
            then `training`.
        outputs: The tensors the function returns, as a tuple.
        with_masks: Also return the outputs' masks (None where there is none)
            after the outputs.
        logits: Ids of output tensors to return before their final softmax or
            sigmoid (the producing layer's `_pre_activation`).

    Returns:
        `fn(*inputs, training) -> tuple`.
    """
    g = fx.Graph()
    env: dict[int, fx.Node] = {}
    for i, t in enumerate(inputs):
        env[id(t)] = g.placeholder(f"x{i}")
    training = g.placeholder("training")
    pre: dict[int, fx.Node] = {}
    activations: list[fx.Node] = []  # recomputed activations next to returned logits

    def lookup(v: Any) -> Any:
        if isinstance(v, SymbolicTensor):
            return env[id(v)]
        return v

    for node in nodes:
        layer = node.layer
        if layer._is_input_layer or all(id(t) in env for t in node.output_tensors):
            continue
        run_flat = getattr(layer, "_run_flat", None)
        if run_flat is not None:  # a nested model: call its own program
            flat = [env[id(t)] for t in layer._flatten_call_inputs(node.args[0])]
            result = g.call_function(run_flat, (*flat, training))
            n_out = len(node.output_tensors)
            for i, t in enumerate(node.output_tensors):
                env[id(t)] = g.call_function(operator.getitem, (result, i))
                if t._mask is not None and id(t._mask) not in env:
                    env[id(t._mask)] = g.call_function(
                        operator.getitem, (result, n_out + i)
                    )
            continue
        takes_training, takes_mask = layer._call_flags()
        args = tree.map_structure(lookup, list(node.args))
        kwargs = tree.map_structure(lookup, dict(node.kwargs))
        if takes_training and kwargs.get("training") is None:
            kwargs["training"] = training
        first = node.args[0] if node.args else None
        mask_struct = tree.map_structure(
            lambda t: (
                env.get(id(t._mask))
                if isinstance(t, SymbolicTensor) and t._mask is not None
                else None
            ),
            first,
        )
        has_mask = any(m is not None for m in tree.flatten(mask_struct))
        if takes_mask and has_mask and "mask" not in kwargs:
            kwargs["mask"] = mask_struct
        for arg_name, mask_name in layer._arg_masks():
            # Keras 3: a `<arg>_mask` parameter gets the mask of tensor `<arg>`.
            t = node.call_arg(arg_name)
            if (
                isinstance(t, SymbolicTensor)
                and t._mask is not None
                and mask_name not in kwargs
            ):
                kwargs[mask_name] = env[id(t._mask)]
        want_pre = [t for t in node.output_tensors if id(t) in logits]
        fn = layer.call
        if want_pre:
            fn = layer._pre_activation
            # Only `training` carries over (a wrapper's inner model may use it).
            takes = "training" in inspect.signature(fn).parameters
            kwargs = {"training": training} if takes else {}
        if _is_simple([args, kwargs]):
            out = g.call_function(fn, tuple(args), kwargs)
        else:
            slots: list[Any] = []

            def slot(v: Any, slots: list[Any] = slots) -> Any:
                if isinstance(v, fx.Node):
                    slots.append(v)
                    return _SLOT
                return v

            caller = _Caller(
                fn, tree.map_structure(slot, args), tree.map_structure(slot, kwargs)
            )
            out = g.call_function(caller, tuple(slots))
        if want_pre:
            pre[id(want_pre[0])] = out
            out = g.call_function(layer.activation, (out,))
            activations.append(out)
        if layer.activity_regularizer is not None:
            g.call_function(layer._add_activity_loss, (out,))
        paths = _leaf_paths(node.outputs)
        for t, path in zip(node.output_tensors, paths):
            env[id(t)] = _select(g, out, path)
        missing = [
            t
            for t in node.output_tensors
            if t._mask is not None and id(t._mask) not in env
        ]
        if missing:
            m = g.call_function(
                layer.compute_mask,
                (tree.map_structure(lookup, first), mask_struct if has_mask else None),
            )
            for i, t in enumerate(node.output_tensors):
                if t._mask is not None and id(t._mask) not in env:
                    env[id(t._mask)] = g.call_function(_mask_at, (m, i))
    results: list[Any] = [pre.get(id(t), env[id(t)]) for t in outputs]
    if with_masks:
        results += [
            env.get(id(t._mask)) if t._mask is not None else None for t in outputs
        ]
    g.output(tuple(results))
    for act in activations:  # only needed where another layer reads the activation
        if not act.users:
            g.erase_node(act)
    module = fx.GraphModule(torch.nn.Module(), g)
    forward: Callable[..., tuple[Any, ...]] = module.forward
    return forward
