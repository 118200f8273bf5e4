"""Order a graph from its inputs and outputs: nodes by depth, layers, and graph errors.

Every walk here is iterative, so a 10,000-layer chain never meets Python's
recursion limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plait.graph.node import Node
from plait.graph.symbolic import SymbolicTensor

__all__ = ["Topology", "build_topology"]


@dataclass
class Topology:
    """The part of a graph between `inputs` and `outputs`, ready to run.

    Attributes:
        nodes: Every node to run, in execution order (deepest first, Keras's order).
        layers: Each layer once, in the order of its first node.
        depth: Node id -> depth (0 for the nodes producing the outputs).
    """

    nodes: list[Node]
    layers: list[Any]
    depth: dict[int, int]


def _is_input_layer(layer: Any) -> bool:
    return getattr(layer, "_is_input_layer", False) is True


def build_topology(
    inputs: list[SymbolicTensor], outputs: list[SymbolicTensor], input_nodes: list[Node]
) -> Topology:
    """Find, order and check the nodes needed to compute `outputs` from `inputs`.

    Args:
        inputs: The model's input tensors (usually from `Input()`; any symbolic
            tensor may serve, and the graph above it is then cut off).
        outputs: The model's output tensors.
        input_nodes: The `InputLayer` nodes of `inputs`, kept even if unused.

    Raises:
        ValueError: "Graph disconnected" naming the missing tensor and the layer
            that needs it; duplicate layer names.
    """
    # Keras 3's order (`ops/function.py` `map_graph`): a depth-first walk from the
    # outputs numbers each layer when first met and lists nodes in post-order; a
    # node's depth is 1 + the deepest of its consumers, raised to its layer's depth
    # so far (a shared layer sits as deep as its deepest call); layers sort by
    # depth, deepest first, then by that number. Weights follow this order, so
    # `set_weights` takes arrays in Keras's `get_weights()` order.
    input_ids = {id(t) for t in inputs}
    input_names = [t.name for t in inputs]
    order: list[Node] = []  # post-order: producers before consumers
    state: dict[int, int] = {}  # node id -> 1 visiting, 2 done
    first_met: dict[int, int] = {}  # layer id -> index in the walk's pre-order
    for out in outputs:
        root = out.node
        if id(out) in input_ids:
            if root is None or not _is_input_layer(root.layer):
                continue  # a cut: the graph above a model input is not walked
        elif root is None:
            raise ValueError(f"Model output {out.name!r} has no producing layer.")
        elif _is_input_layer(root.layer):  # an Input that is not a model input
            raise ValueError(
                f"Graph disconnected: tensor {out.name!r} is needed as a Model output "
                f"but is not in Model inputs {input_names}."
            )
        stack: list[tuple[Node, int]] = [(root, 0)]
        while stack:
            node, pos = stack.pop()
            if pos == 0:
                if state.get(id(node)) == 2:
                    continue
                state[id(node)] = 1
                first_met.setdefault(id(node.layer), len(first_met))
            tensors = node.input_tensors
            while pos < len(tensors):
                t = tensors[pos]
                pos += 1
                parent = t.node
                if id(t) in input_ids:
                    if parent is None or not _is_input_layer(parent.layer):
                        continue  # a cut at an inner tensor
                elif parent is None or _is_input_layer(parent.layer):
                    raise ValueError(
                        f"Graph disconnected: tensor {t.name!r} is needed by layer "
                        f"{node.layer.name!r} but is not in Model inputs "
                        f"{input_names}."
                    )
                if state.get(id(parent)) is None:
                    stack.append((node, pos))
                    stack.append((parent, 0))
                    break
            else:
                state[id(node)] = 2
                order.append(node)
    in_graph = {id(n) for n in order}
    depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(order):  # consumers before producers
        d = max(depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
        depth[id(node)] = layer_depth[id(node.layer)] = d
        for t in node.input_tensors:
            parent = t.node
            if parent is not None and id(parent) in in_graph:
                depth[id(parent)] = max(depth.get(id(parent), 0), d + 1)
    for node in input_nodes:  # unused model inputs: kept, first at depth 0
        if id(node) not in in_graph:
            order.append(node)
            depth[id(node)] = 0
            if id(node.layer) not in layer_depth:
                layer_depth[id(node.layer)], first_met[id(node.layer)] = 0, -1
    position = {id(n): i for i, n in enumerate(order)}
    # Deepest first; a layer's first node is then its deepest, so layers come out
    # in Keras's order too.
    nodes = sorted(
        order, key=lambda n: (-depth[id(n)], first_met[id(n.layer)], position[id(n)])
    )
    layers: list[Any] = []
    seen: dict[int, Any] = {}
    by_name: dict[str, Any] = {}
    for node in nodes:
        layer = node.layer
        if id(layer) in seen:
            continue
        seen[id(layer)] = layer
        other = by_name.get(layer.name)
        if other is not None:
            raise ValueError(
                f"Duplicate layer name {layer.name!r}: two different layers of this "
                "model share it; every layer name in a model must be unique "
                "(pass name=... to one of them)."
            )
        by_name[layer.name] = layer
        layers.append(layer)
    return Topology(nodes=nodes, layers=layers, depth=depth)
