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
    input_ids = {id(t) for t in inputs}
    input_names = [t.name for t in inputs]
    order: list[Node] = []  # post-order: producers before consumers
    state: dict[int, int] = {}  # node id -> 1 visiting, 2 done
    for out in outputs:
        if id(out) in input_ids:
            continue
        root = out.node
        if root is None:
            raise ValueError(f"Model output {out.name!r} has no producing layer.")
        if _is_input_layer(root.layer):  # an Input that is not a model input
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
            tensors = node.input_tensors
            while pos < len(tensors):
                t = tensors[pos]
                pos += 1
                if id(t) in input_ids:
                    continue
                parent = t.node
                if parent is None or _is_input_layer(parent.layer):
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
    # Model inputs' own InputLayer nodes come first (Keras lists them as layers).
    order = [n for n in input_nodes if id(n) not in state] + order
    position = {id(n): i for i, n in enumerate(order)}
    depth: dict[int, int] = {id(n): 0 for n in order}
    for node in reversed(order):
        d = depth[id(node)] + 1
        for t in node.input_tensors:
            parent = t.node
            if parent is not None and id(parent) in depth and id(t) not in input_ids:
                depth[id(parent)] = max(depth[id(parent)], d)
    for node in input_nodes:  # an input sits above everything that reads it
        consumers = [depth[id(n)] for n in order if _reads(n, node)]
        if consumers:
            depth[id(node)] = max(depth[id(node)], max(consumers) + 1)
    nodes = sorted(order, key=lambda n: (-depth[id(n)], position[id(n)]))
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


def _reads(node: Node, input_node: Node) -> bool:
    outs = {id(t) for t in input_node.output_tensors}
    return any(id(t) in outs for t in node.input_tensors)
