"""`clone_model`: the same graph with new layers (fresh weights)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plait.graph.symbolic import SymbolicTensor
from plait.layers.base import Layer
from plait.layers.core import Lambda
from plait.layers.input_layer import InputLayer
from plait.layers.serialization import resolve_functions
from plait.models.config import graph_spec, rebuild_graph
from plait.models.functional import Functional
from plait.models.sequential import Sequential
from plait.utils import tree

__all__ = ["clone_model"]


def _clone_layer(layer: Layer) -> Layer:
    """A new layer with `layer`'s config: same class and arguments, fresh weights."""
    if isinstance(layer, Functional):
        return clone_model(layer)
    if type(layer) is Lambda:
        # A Lambda of a Python lambda has no config to save, but can be cloned.
        return Lambda(
            layer.function,
            output_shape=layer.output_shape_spec,
            mask=layer.mask,
            arguments=dict(layer.arguments),
            name=layer.name,
            trainable=layer.trainable,
        )
    # Registered functions (a custom activation) are saved by name: resolve them.
    config = resolve_functions(layer.get_config(), None, layer._where())
    return type(layer).from_config(config)


def _clone_input(layer: InputLayer) -> InputLayer:
    return InputLayer.from_config(layer.get_config())


def clone_model(
    model: Functional,
    input_tensors: Any = None,
    clone_function: Callable[[Layer], Layer] | None = None,
    recursive: bool = False,
) -> Functional:
    """A new model with the same graph as `model` and new layers (fresh weights).

    Args:
        model: A functional or Sequential model.
        input_tensors: Symbolic tensors (one, a list, or a dict by input name) to
            build the clone on, instead of new `Input`s.
        clone_function: Layer -> the layer to use in the clone; by default a new
            layer from `layer.get_config()`. Return the layer itself to share it
            (and its weights) with the original. Input layers are not passed.
        recursive: Whether to apply `clone_function` inside nested models too.

    Returns:
        The clone: a `Sequential` for a `Sequential`, else a functional model.

    Example:
        >>> import plait
        >>> x = plait.Input(shape=(3,))
        >>> model = plait.Model(x, plait.layers.Dense(2)(x))
        >>> twin = clone_model(model)
        >>> twin.output_shape, twin.layers[1] is model.layers[1]
        ((None, 2), False)
    """
    if not isinstance(model, Functional):
        raise ValueError(
            f"clone_model: expected a functional or Sequential model, got "
            f"{type(model).__name__}; a subclassed model cannot be cloned from its "
            "graph."
        )
    fn = clone_function or _clone_layer

    def clone(layer: Layer) -> Layer:
        if recursive and isinstance(layer, Functional):
            return clone_model(layer, clone_function=fn, recursive=True)
        return fn(layer)

    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, clone)
    spec = graph_spec(model)
    by_name = {layer.name: layer for layer, _ in spec["layers"]}
    config = {
        "layers": [
            {"name": layer.name, "inbound_nodes": nodes}
            for layer, nodes in spec["layers"]
        ],
        "input_layers": spec["input_layers"],
        "output_layers": spec["output_layers"],
    }
    given = None
    if input_tensors is not None:
        given = _match_inputs(model, spec["input_layers"], input_tensors)

    def make_layer(entry: dict[str, Any]) -> Layer:
        layer = by_name[entry["name"]]
        if isinstance(layer, InputLayer):
            return _clone_input(layer)
        new = clone(layer)
        if not isinstance(new, Layer):
            raise TypeError(
                f"clone_model: clone_function returned {type(new).__name__} for layer "
                f"{layer.name!r}; expected a plait Layer."
            )
        return new

    inputs, outputs = rebuild_graph(config, make_layer, given)
    return Functional(inputs=inputs, outputs=outputs, name=model.name)


def _match_inputs(
    model: Functional, input_refs: Any, input_tensors: Any
) -> dict[str, SymbolicTensor]:
    if isinstance(input_tensors, dict):
        names = model.input_names
        missing = [n for n in names if n not in input_tensors]
        if missing:
            raise ValueError(
                f"clone_model: input_tensors lacks inputs {missing} of model "
                f"{model.name!r}."
            )
        flat = [input_tensors[n] for n in names]
    else:
        flat = tree.flatten(input_tensors)
    refs = [
        r
        for r in tree.flatten(input_refs)
        if isinstance(r, str)  # flatten splits [name, 0, 0] refs into leaves
    ]
    if len(flat) != len(refs):
        raise ValueError(
            f"clone_model: model {model.name!r} has {len(refs)} input(s), got "
            f"{len(flat)} input_tensors."
        )
    for t in flat:
        if not isinstance(t, SymbolicTensor):
            raise TypeError(
                f"clone_model: expected input_tensors from plait.Input(), got "
                f"{type(t).__name__}."
            )
    return dict(zip(refs, flat))


def _clone_sequential(
    model: Sequential, input_tensors: Any, clone: Callable[[Layer], Layer]
) -> Functional:
    layers = [clone(layer) for layer in model._seq]
    if input_tensors is not None:
        flat = tree.flatten(input_tensors)
        if len(flat) != 1 or not isinstance(flat[0], SymbolicTensor):
            raise ValueError(
                "clone_model: a Sequential model takes one input tensor, got "
                f"{input_tensors!r}."
            )
        x = flat[0]
        h = x._history
        if h is not None and h.layer._is_input_layer:
            return Sequential([x, *layers], name=model.name)
        out = x
        for layer in layers:
            out = layer(out)
        return Functional(inputs=x, outputs=out, name=model.name)
    if model.built:
        first = model._flat_inputs[0].node
        if first is not None and isinstance(first.layer, InputLayer):
            return Sequential([_clone_input(first.layer), *layers], name=model.name)
    return Sequential(layers, name=model.name)
