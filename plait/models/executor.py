"""The functional model's compiler: its graph as straight-line code, once per model.

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

from plait.dtype_policies import autocast as amp
from plait.graph.node import Node
from plait.graph.symbolic import SymbolicTensor
from plait.layers.call_api import _training_default, fills_mask
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
    input_masks: tuple[bool, ...] = (),
) -> Callable[..., tuple[Any, ...]]:
    """Generate the forward function of a graph.

    Masks follow the graph as it was built (`SymbolicTensor._mask`). When some
    inputs come with masks (`input_masks`), those masks are propagated by the
    layers' own rules instead: a layer that supports masking passes a single mask
    through or computes its output masks with `compute_mask`.

    Args:
        nodes: The graph's nodes in execution order (`Topology.nodes`).
        inputs: The graph's input tensors; the function takes one argument each,
            then one mask per flagged input, then `training`.
        outputs: The tensors the function returns, as a tuple.
        with_masks: Also return the outputs' masks (None where there is none)
            after the outputs.
        logits: Ids of output tensors to return before their final softmax or
            sigmoid (the producing layer's `_pre_activation`).
        input_masks: Which inputs come with a mask (all False when empty).

    Returns:
        `fn(*inputs, *input_masks, training) -> tuple`.
    """
    g = fx.Graph()
    env: dict[int, fx.Node] = {}
    menv: dict[int, fx.Node] = {}  # data tensor id -> its mask
    for i, t in enumerate(inputs):
        env[id(t)] = g.placeholder(f"x{i}")
    dynamic = any(input_masks)
    for i, t in enumerate(inputs):
        if i < len(input_masks) and input_masks[i]:
            menv[id(t)] = g.placeholder(f"m{i}")
    training = g.placeholder("training")
    # Mixed precision: one autocast region for the whole program, layers in theirs.
    region = amp.region_dtype([n.layer for n in nodes if not n.layer._is_input_layer])
    pre: dict[int, fx.Node] = {}
    activations: list[fx.Node] = []  # recomputed activations next to returned logits

    def lookup(v: Any) -> Any:
        if isinstance(v, SymbolicTensor):
            return env[id(v)]
        return v

    def mask_of(v: Any) -> Any:
        return menv.get(id(v)) if isinstance(v, SymbolicTensor) else None

    for node in nodes:
        layer = node.layer
        if layer._is_input_layer or all(id(t) in env for t in node.output_tensors):
            continue
        first = node.args[0] if node.args else None
        if getattr(layer, "_run_flat", None) is not None:  # a nested model
            _nested_call(g, node, env, menv, training, dynamic, region)
            continue
        takes_training, takes_mask = layer._call_flags()
        args = tree.map_structure(lookup, list(node.args))
        kwargs = tree.map_structure(lookup, dict(node.kwargs))
        if takes_training and kwargs.get("training") is None:
            # None (a model called with nothing said): the layer's own default,
            # as in Keras (True for the random augmentation layers).
            default = _training_default(type(layer))
            kwargs["training"] = (
                g.call_function(_true_unless_given, (training,))
                if default
                else training
            )
        mask_struct = tree.map_structure(mask_of, first)
        has_mask = any(m is not None for m in tree.flatten(mask_struct))
        fill = fills_mask(layer, node.args, node.kwargs)
        if takes_mask and has_mask and "mask" not in kwargs and fill:
            kwargs["mask"] = mask_struct
        for arg_name, mask_name in layer._arg_masks():
            # Keras 3: a `<arg>_mask` parameter gets the mask of tensor `<arg>`.
            arg_mask = mask_of(node.call_arg(arg_name))
            if arg_mask is not None and mask_name not in kwargs:
                kwargs[mask_name] = arg_mask
        want_pre = [t for t in node.output_tensors if id(t) in logits]
        fn = layer.call
        if want_pre:
            fn = layer._pre_activation
            # Only `training` carries over (a wrapper's inner model may use it).
            takes = "training" in inspect.signature(fn).parameters
            kwargs = {"training": training} if takes else {}
        if region is not None:
            fn = amp.wrap_call(layer, fn)
        if layer._forward_pre_hooks or layer._forward_hooks:
            fn = _Hooked(layer, fn)  # e.g. FSDP's gather before, free after
        out = _call(g, fn, args, kwargs)
        if want_pre:
            pre[id(want_pre[0])] = out
            out = g.call_function(layer.activation, (out,))
            activations.append(out)
        if layer.activity_regularizer is not None:
            g.call_function(layer._add_activity_loss, (out,))
        paths = _leaf_paths(node.outputs)
        for t, path in zip(node.output_tensors, paths):
            env[id(t)] = _select(g, out, path)
        if layer._makes_masks():
            _output_masks(g, node, menv, mask_struct, has_mask, lookup, dynamic)
    results: list[Any] = [pre.get(id(t), env[id(t)]) for t in outputs]
    if with_masks:
        results += [menv.get(id(t)) for t in outputs]
    g.output(tuple(results))
    for act in activations:  # only needed where another layer reads the activation
        if not act.users:
            g.erase_node(act)
    module = fx.GraphModule(torch.nn.Module(), g)
    forward: Callable[..., tuple[Any, ...]] = module.forward
    return forward if region is None else amp.Region(forward, region)


class _Hooked:
    """`fn` between the layer's torch forward pre-hooks and forward hooks.

    The program calls `layer.call` directly, not `layer(...)`; a layer with
    torch hooks (`register_forward_pre_hook`, FSDP's `fully_shard`) gets them
    run here as `nn.Module.__call__` runs them.
    """

    def __init__(self, layer: torch.nn.Module, fn: Callable[..., Any]) -> None:
        self.layer, self.fn = layer, fn
        self.__name__ = getattr(fn, "__name__", "call")
        self.__module__ = __name__
        self.__wrapped__ = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        layer = self.layer
        for key, hook in list(layer._forward_pre_hooks.items()):
            if key in layer._forward_pre_hooks_with_kwargs:
                result = hook(layer, args, kwargs)
                if result is not None:
                    args, kwargs = result
            else:
                result = hook(layer, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        out = self.fn(*args, **kwargs)
        for key, hook in list(layer._forward_hooks.items()):
            if key in layer._forward_hooks_with_kwargs:
                result = hook(layer, args, kwargs, out)
            else:
                result = hook(layer, args, out)
            if result is not None:
                out = result
        return out


def _call(
    g: fx.Graph, fn: Callable[..., Any], args: Any, kwargs: dict[str, Any]
) -> Any:
    """Emit `fn(*args, **kwargs)`, binding constants fx cannot write as literals."""
    if _is_simple([args, kwargs]):
        return g.call_function(fn, tuple(args), kwargs)
    slots: list[Any] = []

    def slot(v: Any) -> Any:
        if isinstance(v, fx.Node):
            slots.append(v)
            return _SLOT
        return v

    caller = _Caller(
        fn, tree.map_structure(slot, args), tree.map_structure(slot, kwargs)
    )
    return g.call_function(caller, tuple(slots))


def _output_masks(
    g: fx.Graph,
    node: Node,
    menv: dict[int, fx.Node],
    mask_struct: Any,
    has_mask: bool,
    lookup: Callable[[Any], Any],
    dynamic: bool,
) -> None:
    """Emit the masks of a masking layer's outputs (as its symbolic call decided)."""
    layer = node.layer
    outs = node.output_tensors
    if not layer._computes_masks():
        flat = tree.flatten(mask_struct)
        if has_mask and len(outs) == 1 and len(flat) == 1:
            menv[id(outs[0])] = flat[0]  # passed through unchanged
        return
    wanted = [t for t in outs if dynamic or t._mask is not None]
    if not wanted:
        return
    first = node.args[0] if node.args else None
    m = g.call_function(
        layer.compute_mask,
        (tree.map_structure(lookup, first), mask_struct if has_mask else None),
    )
    for i, t in enumerate(outs):
        if t in wanted:
            menv[id(t)] = g.call_function(_mask_at, (m, i))


def _true_unless_given(training: bool | None) -> bool:
    """`training` for a layer whose call defaults to True: True when None."""
    return True if training is None else training


def _nested_call(
    g: fx.Graph,
    node: Node,
    env: dict[int, fx.Node],
    menv: dict[int, fx.Node],
    training: fx.Node,
    dynamic: bool,
    region: torch.dtype | None,
) -> None:
    """Emit a call of a nested model's own program (with input masks if any)."""
    model = node.layer
    # A float32 model inside a mixed one computes in float32 (a mixed one opens
    # its own region).
    wrap = region is not None and model._compute_dtype not in amp.HALF
    inner = model._flatten_call_inputs(node.args[0])
    flat = [env[id(t)] for t in inner]
    flags = tuple(id(t) in menv for t in inner)
    masks = [menv[id(t)] for t in inner if id(t) in menv]
    n_out = len(node.output_tensors)
    given = node.kwargs.get("training")
    if given is not None:  # `base_model(x, training=False)`: fixed in the graph
        training = bool(given)  # type: ignore[assignment]
    if any(flags):
        fn = model._run_masked_flat
        fn = amp.wrap_call(model, fn) if wrap else fn
        result = g.call_function(fn, (flags, *flat, *masks, training))
        with_masks = True
    else:
        fn = model._run_flat
        fn = amp.wrap_call(model, fn) if wrap else fn
        result = g.call_function(fn, (*flat, training))
        with_masks = model._has_output_masks
    for i, t in enumerate(node.output_tensors):
        env[id(t)] = g.call_function(operator.getitem, (result, i))
        if with_masks and (dynamic or any(flags) or t._mask is not None):
            menv[id(t)] = g.call_function(operator.getitem, (result, n_out + i))
