"""A functional model's graph as JSON data, and back: `get_config` / `from_config`.

The format follows Keras's:

    {"name": ..., "trainable": ...,
     "layers": [{"class_name", "config", "name", "inbound_nodes": [node, ...]}, ...],
     "input_layers": <structure of refs>, "output_layers": <structure of refs>}

Each node is one call of the layer inside this model: `{"args": [...], "kwargs":
{...}}` with every symbolic tensor written as `{"__tensor__": [layer_name,
node_index, tensor_index]}` and tuples as `{"__tuple__": [...]}`. Node indices
count only the calls that belong to this model, so a layer shared with another
model, or a nested model (whose node 0 is its own), round-trips. The input and
output structures (one tensor, a list, a dict) hold `[layer_name, node_index,
tensor_index]` refs. Masks are not saved: they are recomputed by the layers.
Rebuilding is a worklist over the nodes, without recursion, so a 10,000-layer
chain loads.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from plait.graph.node import Node
from plait.graph.symbolic import SymbolicTensor
from plait.layers.base import Layer
from plait.layers.input_layer import InputLayer
from plait.utils import tree

if TYPE_CHECKING:
    from plait.models.functional import Functional

__all__ = [
    "functional_from_config",
    "functional_get_config",
    "graph_size",
    "graph_spec",
    "rebuild_graph",
]

# Keys under which a config holds layer entries (models, wrappers, RNN cells).
_LAYER_KEYS = frozenset(
    {"layers", "layer", "forward_layer", "backward_layer", "cell", "cells"}
)
_TENSOR = "__tensor__"
_TUPLE = "__tuple__"
Ref = tuple[str, int, int]


# ---------------------------------------------------------------------- saving
def graph_spec(model: Functional) -> dict[str, Any]:
    """The graph of `model` with layer objects in place of their configs.

    Returns:
        `{"layers": [(layer, [node, ...]), ...], "input_layers": ...,
        "output_layers": ...}` where nodes are already JSON data and the layers are
        the model's own objects, in the model's order (input layers included).
    """
    nodes_of: dict[int, list[Node]] = {}
    order: list[Layer] = []
    for node in model._topology.nodes:
        layer = node.layer
        if id(layer) not in nodes_of:
            nodes_of[id(layer)] = []
            order.append(layer)
        nodes_of[id(layer)].append(node)
    rel: dict[int, int] = {}
    for nodes in nodes_of.values():
        nodes.sort(key=lambda n: n.index)
        rel.update({id(n): i for i, n in enumerate(nodes)})
    # Inputs that are not the outputs of an InputLayer (a graph cut at an inner
    # tensor) become input layers of their own.
    extra_inputs: dict[int, Ref] = {}
    names = {layer.name for layer in order}
    cut_layers: list[tuple[Layer, list[Any]]] = []
    for t in model._flat_inputs:
        producer = t.node
        if producer is not None and id(producer) in rel:
            continue
        name, i = f"{t.name.replace(':', '_')}_input", 0
        while name in names:
            i += 1
            name = f"{t.name.replace(':', '_')}_input_{i}"
        names.add(name)
        cut_layers.append(
            (InputLayer(batch_shape=t.shape, dtype=t.dtype, name=name), [])
        )
        extra_inputs[id(t)] = (name, 0, 0)

    def ref(t: SymbolicTensor, where: str) -> Ref:
        if id(t) in extra_inputs:
            return extra_inputs[id(t)]
        h = t._history
        node = t.node
        if h is None or node is None or id(node) not in rel:
            raise ValueError(
                f"Model {model.name!r}: {where} uses tensor {t.name!r}, which is not "
                "produced by a layer of the model (a mask tensor or a tensor from "
                "another graph), so the call cannot be saved."
            )
        return (h.layer.name, rel[id(node)], h.tensor_index)

    layers: list[tuple[Layer, list[Any]]] = list(cut_layers)
    for layer in order:
        encoded = []
        for node in nodes_of[id(layer)]:
            if layer._is_input_layer and node.index == 0 and not node.args:
                continue
            where = f"layer {layer.name!r}"
            encoded.append(
                {
                    "args": _encode(list(node.args), ref, where),
                    "kwargs": _encode(dict(node.kwargs), ref, where),
                }
            )
        layers.append((layer, encoded))
    return {
        "layers": layers,
        "input_layers": tree.map_structure(
            lambda t: list(ref(t, "its inputs")), model._nested_inputs
        ),
        "output_layers": tree.map_structure(
            lambda t: list(ref(t, "its outputs")), model._nested_outputs
        ),
    }


def _encode(value: Any, ref: Callable[[SymbolicTensor, str], Ref], where: str) -> Any:
    """Call arguments as JSON data: tensors become refs, tuples are marked."""
    if isinstance(value, SymbolicTensor):
        return {_TENSOR: list(ref(value, where))}
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v, ref, where) for v in value]}
    if isinstance(value, list):
        return [_encode(v, ref, where) for v in value]
    if isinstance(value, dict):
        if _TENSOR in value or _TUPLE in value:
            raise ValueError(
                f"{where}: a call argument is a dict with the reserved key "
                f"{_TENSOR!r} or {_TUPLE!r}; rename it to save the model."
            )
        for k in value:
            if not isinstance(k, str):
                raise ValueError(f"{where}: call argument dict key {k!r} is not a str.")
        return {k: _encode(v, ref, where) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(
        f"{where}: cannot save a call argument of type {type(value).__name__} "
        f"({value!r}); only symbolic tensors and JSON constants can be saved."
    )


def functional_get_config(model: Functional) -> dict[str, Any]:
    """`model.get_config()` of a functional or Sequential model (see module doc).

    Example:
        >>> import plait
        >>> x = plait.Input(shape=(3,), name="x")
        >>> model = plait.Model(x, plait.layers.Dense(2, name="d")(x), name="m")
        >>> config = functional_get_config(model)
        >>> [entry["name"] for entry in config["layers"]], config["output_layers"]
        (['x', 'd'], ['d', 0, 0])
    """
    from plait.layers.serialization import sharing_scope

    with sharing_scope():
        return _get_config(model)


def _get_config(model: Functional) -> dict[str, Any]:
    from plait.layers.serialization import serialize_layer
    from plait.models.sequential import Sequential

    if isinstance(model, Sequential):
        return _sequential_get_config(model)
    spec = graph_spec(model)
    entries = []
    for layer, nodes in spec["layers"]:
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = nodes
        entries.append(entry)
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": entries,
        "input_layers": spec["input_layers"],
        "output_layers": spec["output_layers"],
    }


def _sequential_get_config(model: Any) -> dict[str, Any]:
    from plait.layers.serialization import serialize_layer

    entries = []
    if model.built:
        first = model._flat_inputs[0].node
        if first is not None and first.layer._is_input_layer:
            entries.append(serialize_layer(first.layer))
    entries += [serialize_layer(layer) for layer in model._seq]
    return {"name": model.name, "trainable": model.trainable, "layers": entries}


def graph_size(config: Any) -> tuple[int, int]:
    """`(layers, calls)` a model config describes, nested models included.

    Counted without building anything (and without recursion), so that a loader
    can refuse a config too large to build before building it.

    Example:
        >>> import plait
        >>> x = plait.Input(shape=(3,))
        >>> d = plait.layers.Dense(3)
        >>> model = plait.Model(x, d(d(x)))
        >>> graph_size({"class_name": "Functional", "config": model.get_config()})
        (3, 2)
    """
    layers = calls = 0
    stack: list[tuple[Any, bool]] = [(config, True)]
    while stack:
        item, is_entry = stack.pop()
        if isinstance(item, list):
            stack.extend((v, is_entry) for v in item)
            continue
        if not isinstance(item, dict):
            continue
        if is_entry and "class_name" in item:
            layers += 1
            nodes = item.get("inbound_nodes")
            calls += len(nodes) if isinstance(nodes, list) else 0
        for key, value in item.items():
            if isinstance(value, (dict, list)) and key != "inbound_nodes":
                stack.append((value, key in _LAYER_KEYS))
    return layers, calls


# ---------------------------------------------------------------------- loading
def _is_ref(x: Any) -> bool:
    return (
        isinstance(x, list)
        and len(x) == 3
        and isinstance(x[0], str)
        and all(isinstance(i, int) and not isinstance(i, bool) for i in x[1:])
    )


def _refs_in(value: Any) -> list[Ref]:
    """Tensor refs inside an encoded call argument structure (no recursion)."""
    out: list[Ref] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if _TENSOR in item:
                r = item[_TENSOR]
                if not _is_ref(r):
                    raise ValueError(f"malformed tensor reference {r!r} in a node.")
                out.append((r[0], r[1], r[2]))
            else:
                stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


def _decode(value: Any, lookup: Callable[[Ref], SymbolicTensor]) -> Any:
    if isinstance(value, dict):
        if _TENSOR in value:
            r = value[_TENSOR]
            return lookup((r[0], r[1], r[2]))
        if _TUPLE in value:
            return tuple(_decode(v, lookup) for v in value[_TUPLE])
        return {k: _decode(v, lookup) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, lookup) for v in value]
    return value


def _decode_structure(value: Any, lookup: Callable[[Ref], SymbolicTensor]) -> Any:
    if _is_ref(value):
        return lookup((value[0], value[1], value[2]))
    if isinstance(value, list):
        return [_decode_structure(v, lookup) for v in value]
    if isinstance(value, dict):
        return {k: _decode_structure(v, lookup) for k, v in value.items()}
    raise ValueError(
        f"expected model inputs/outputs as [layer_name, node_index, tensor_index] "
        f"refs in a list or dict, got {value!r}."
    )


def rebuild_graph(
    config: dict[str, Any],
    make_layer: Callable[[dict[str, Any]], Layer],
    input_tensors: dict[str, SymbolicTensor] | None = None,
) -> tuple[Any, Any]:
    """Recreate the layers of a graph config and replay their calls.

    Args:
        config: A functional config (see module doc).
        make_layer: Layer entry -> a new layer (from its config, or a clone).
        input_tensors: Input layer name -> a tensor to use instead of a new
            input (for `clone_model(input_tensors=...)`).

    Returns:
        `(inputs, outputs)` in the config's structures.
    """
    entries = config.get("layers")
    if not isinstance(entries, list):
        raise ValueError("expected the model config to have a 'layers' list.")
    layers: dict[str, Layer] = {}
    specs: dict[str, list[Any]] = {}
    made: dict[tuple[str, int], list[SymbolicTensor]] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError(f"expected each layer entry to be a dict, got {entry!r}.")
        name = entry.get("name", (entry.get("config") or {}).get("name"))
        if not isinstance(name, str) or name in layers:
            raise ValueError(
                f"expected each layer entry to have a unique str 'name', got {name!r}."
            )
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            raise ValueError(f"layer {name!r}: expected 'inbound_nodes' to be a list.")
        if input_tensors is not None and name in input_tensors:
            made[(name, 0)] = [input_tensors[name]]
            specs[name] = []
            continue
        layer = make_layer(entry)
        layers[name] = layer
        specs[name] = nodes
        if layer._is_input_layer and not nodes:
            made[(name, 0)] = list(layer._inbound_nodes[0].output_tensors)
    _replay(layers, specs, made)

    def lookup(r: Ref) -> SymbolicTensor:
        outs = made.get((r[0], r[1]))
        if outs is None or not 0 <= r[2] < len(outs):
            raise ValueError(
                f"the model config refers to tensor {list(r)!r}, which no layer call "
                "of the config produces."
            )
        return outs[r[2]]

    return (
        _decode_structure(config.get("input_layers"), lookup),
        _decode_structure(config.get("output_layers"), lookup),
    )


def _replay(
    layers: dict[str, Layer],
    specs: dict[str, list[Any]],
    made: dict[tuple[str, int], list[SymbolicTensor]],
) -> None:
    """Call each layer on its decoded inputs once those inputs exist (Kahn's order)."""
    deps: dict[tuple[str, int], int] = {}
    waiting: dict[tuple[str, int], list[tuple[str, int]]] = {}
    ready: deque[tuple[str, int]] = deque()
    for name, nodes in specs.items():
        for k, node in enumerate(nodes):
            if not isinstance(node, dict) or set(node) - {"args", "kwargs"}:
                raise ValueError(
                    f"layer {name!r} node {k}: expected {{'args': [...], 'kwargs': "
                    f"{{...}}}}, got {node!r}."
                )
            key = (name, k)
            needs = {(r[0], r[1]) for r in _refs_in(node)}
            if k > 0:
                needs.add((name, k - 1))
            needs = {n for n in needs if n not in made}
            for n in needs:
                if n[0] not in specs or not 0 <= n[1] < max(len(specs[n[0]]), 1):
                    raise ValueError(
                        f"layer {name!r} node {k} refers to node {n[1]} of layer "
                        f"{n[0]!r}, which the config does not define."
                    )
                waiting.setdefault(n, []).append(key)
            deps[key] = len(needs)
            if not needs:
                ready.append(key)

    def lookup(r: Ref) -> SymbolicTensor:
        outs = made[(r[0], r[1])]
        if not 0 <= r[2] < len(outs):
            raise ValueError(
                f"tensor ref {list(r)!r}: layer {r[0]!r} node {r[1]} has only "
                f"{len(outs)} output(s)."
            )
        return outs[r[2]]

    while ready:
        key = ready.popleft()
        name, k = key
        node = specs[name][k]
        args = _decode(node.get("args", []), lookup)
        kwargs = _decode(node.get("kwargs", {}), lookup)
        if not isinstance(args, list) or not args or not isinstance(kwargs, dict):
            raise ValueError(
                f"layer {name!r} node {k}: expected non-empty 'args' and a 'kwargs' "
                "dict."
            )
        outputs = layers[name](*args, **kwargs)
        made[key] = [t for t in tree.flatten(outputs) if isinstance(t, SymbolicTensor)]
        for other in waiting.pop(key, []):
            deps[other] -= 1
            if deps[other] == 0:
                ready.append(other)
    stuck = [f"{n}#{k}" for (n, k), d in deps.items() if d > 0]
    if stuck:
        raise ValueError(
            f"the model config's graph cannot be rebuilt: the calls {stuck[:5]} wait "
            "on each other (a cycle) or on tensors no call produces."
        )


def functional_from_config(
    cls: type[Functional],
    config: dict[str, Any],
    custom_objects: dict[str, Any] | None = None,
) -> Functional:
    """`cls.from_config(config)`: a new model with the same graph and fresh weights.

    Example:
        >>> import plait
        >>> x = plait.Input(shape=(3,))
        >>> model = plait.Model(x, plait.layers.Dense(2)(x))
        >>> from plait.models import Functional
        >>> copy = functional_from_config(Functional, model.get_config())
        >>> copy.output_shape
        (None, 2)
    """
    from plait.layers.serialization import sharing_scope

    with sharing_scope():
        return _from_config(cls, config, custom_objects)


def _from_config(
    cls: type[Functional], config: Any, custom_objects: dict[str, Any] | None
) -> Functional:
    from plait.layers.serialization import deserialize_layer
    from plait.models.sequential import Sequential

    if not isinstance(config, dict):
        raise ValueError(f"expected a model config dict, got {type(config).__name__}.")
    if issubclass(cls, Sequential):
        return _sequential_from_config(cls, config, custom_objects)
    for key in ("layers", "input_layers", "output_layers"):
        if key not in config:
            raise ValueError(f"model config has no {key!r}; it is not a graph config.")
    from plait.models.graph_loss import AddLoss

    made: list[Layer] = []

    def make(entry: dict[str, Any]) -> Layer:
        made.append(deserialize_layer(_layer_part(entry), custom_objects))
        return made[-1]

    inputs, outputs = rebuild_graph(config, make)
    model = cls(inputs=inputs, outputs=outputs, name=config.get("name"))
    # `model.add_loss(symbolic)` terms: AddLoss layers beside the outputs.
    terms = [la._inbound_nodes[0].outputs for la in made if isinstance(la, AddLoss)]
    if terms:
        model._regraph(terms)
    # Each layer's own `trainable` came with its config; don't propagate.
    model._trainable = bool(config.get("trainable", True))
    return model


def _layer_part(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in ("inbound_nodes", "name")}


def _sequential_from_config(
    cls: type[Any], config: dict[str, Any], custom_objects: dict[str, Any] | None
) -> Any:
    from plait.layers.serialization import deserialize_layer

    entries = config.get("layers")
    if not isinstance(entries, list):
        raise ValueError("expected the Sequential config to have a 'layers' list.")
    layers = [deserialize_layer(e, custom_objects) for e in entries]
    model = cls(layers=layers, name=config.get("name"))
    model._trainable = bool(config.get("trainable", True))
    return model
