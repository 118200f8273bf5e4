"""`Node`: one call of a layer on symbolic inputs."""

from __future__ import annotations

from typing import Any

from plait.graph.symbolic import SymbolicTensor
from plait.utils import tree

__all__ = ["Node"]


class Node:
    """One call of `layer` on symbolic arguments, producing symbolic outputs.

    The call's arguments are kept as given (`args`, `kwargs`, nested lists/dicts
    allowed); the symbolic tensors found in them are `input_tensors`, in order.
    Each call of a layer appends one node to `layer._inbound_nodes`; the index in
    that list is the node index of Keras's node API (`get_output_at(i)`).

    Attributes:
        layer: The layer that was called.
        args: Positional call arguments (symbolic tensors and constants).
        kwargs: Keyword call arguments, `training` and `mask` excluded.
        outputs: The call's result structure, of symbolic tensors.
        input_tensors: Flat list of the symbolic tensors among the arguments.
        output_tensors: Flat list of the symbolic outputs.
        input_masks: Mask (a symbolic tensor) or None for each input tensor.
        output_masks: Mask or None for each output tensor.
        index: Position in `layer._inbound_nodes`.
    """

    __slots__ = (
        "args",
        "index",
        "input_masks",
        "input_tensors",
        "is_model_self_node",
        "kwargs",
        "layer",
        "output_masks",
        "output_tensors",
        "outputs",
    )

    def __init__(
        self,
        layer: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        outputs: Any,
        *,
        self_node: bool = False,
    ) -> None:
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs
        self.input_tensors: list[SymbolicTensor] = [
            x
            for x in tree.flatten([list(args), kwargs])
            if isinstance(x, SymbolicTensor)
        ]
        self.output_tensors: list[SymbolicTensor] = [
            x for x in tree.flatten(outputs) if isinstance(x, SymbolicTensor)
        ]
        self.input_masks = [t._mask for t in self.input_tensors]
        self.output_masks = [t._mask for t in self.output_tensors]
        # A functional model's node 0 links its own inputs to its outputs (Keras 2);
        # no tensor's history points at it and graph walks skip it.
        self.is_model_self_node = self_node
        self.index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)

    def call_arg(self, name: str) -> Any:
        """The value given for `layer.call`'s parameter `name` (positional or keyword)."""
        if name in self.kwargs:
            return self.kwargs[name]
        position = self.layer._call_positions().get(name)
        if position is not None and position < len(self.args):
            return self.args[position]
        return None

    @property
    def parent_nodes(self) -> list[Node]:
        """Nodes that produced this node's inputs (each once, in order)."""
        seen: set[int] = set()
        out: list[Node] = []
        for t in self.input_tensors:
            node = t.node
            if node is not None and id(node) not in seen:
                seen.add(id(node))
                out.append(node)
        return out

    def __repr__(self) -> str:
        return f"<Node {self.layer.name}#{self.index}>"
