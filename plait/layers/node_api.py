"""Keras 2's node API: `layer.output`, `get_output_at(i)`, ... (GUIDE.md section 5).

Each call of a layer on symbolic tensors appends a `Node` to
`layer._inbound_nodes`; these accessors read the inputs, outputs, shapes and masks
of those calls, with Keras 2's errors (Keras 3 dropped them and made
`layer.output` silently return the first call's output).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plait.graph.node import Node

__all__ = ["NodeAPI"]


class _NotCalledError(RuntimeError):
    """A node attribute was read on a layer that was never called."""


def _single(attr: str, doc: str) -> property:
    """The property `attr` of the layer's only call (`input`, `output_shape`, ...)."""

    def get(self: NodeAPI) -> Any:
        return self._single_node_attr(attr)

    return property(get, doc=doc)


def _at(attr: str, doc: str) -> Callable[..., Any]:
    """The method `get_<attr>_at(node_index)` (`get_input_at`, ...)."""

    def get_at(self, node_index: int) -> Any:  # type: ignore[no-untyped-def]
        return self._node_attr(attr, node_index)

    get_at.__name__ = f"get_{attr.replace(' ', '_')}_at"
    get_at.__qualname__ = f"NodeAPI.{get_at.__name__}"
    get_at.__doc__ = doc
    return get_at


class NodeAPI:
    """Mixin of `Layer`: the per-call accessors of Keras 2.

    Raises:
        RuntimeError: for a layer never called on symbolic tensors.
        AttributeError: for `input`, `output`, ... of a layer called several times
            (shapes are defined when every call agrees); use `get_output_at(i)`.
        ValueError: for a node index out of range.
    """

    name: str
    _inbound_nodes: list[Node]

    def _node_attr(self, attr: str, index: int) -> Any:
        if not self._inbound_nodes:
            raise _NotCalledError(
                f"Layer '{self.name}' has never been called and thus has no defined "
                f"{attr}."
            )
        if not isinstance(index, int) or not 0 <= index < len(self._inbound_nodes):
            raise ValueError(
                f"Layer '{self.name}': asked for {attr} at node {index!r}, but the layer "
                f"has only {len(self._inbound_nodes)} inbound node"
                f"{'s' if len(self._inbound_nodes) != 1 else ''}."
            )
        node = self._inbound_nodes[index]
        # Keras compat: an InputLayer's input is its output (model.layers[0].input).
        if attr.startswith("input") and not getattr(self, "_is_input_layer", False):
            values: list[Any] = node.input_tensors
            if attr == "input mask":
                values = node.input_masks
        else:
            values = node.output_tensors
            if attr.endswith("mask"):
                values = node.output_masks
        if attr.endswith("shape"):
            values = [t.shape for t in values]
        return values[0] if len(values) == 1 else list(values)

    def _single_node_attr(self, attr: str) -> Any:
        n = len(self._inbound_nodes)
        if n > 1:
            if attr.endswith("shape"):
                shapes = [self._node_attr(attr, i) for i in range(n)]
                if all(s == shapes[0] for s in shapes):
                    return shapes[0]
            attr_name = attr.replace(" ", "_")
            method = f"get_{attr_name}_at"
            raise AttributeError(
                f"Layer '{self.name}' has multiple inbound nodes ({n}), so "
                f"'{attr_name}' is ill-defined; use {method}(node_index)."
            )
        return self._node_attr(attr, 0)

    input = _single(
        "input", "Input tensor(s) of the layer's only call (AttributeError if several)."
    )
    output = _single(
        "output",
        "Output tensor(s) of the layer's only call (AttributeError if several).",
    )
    input_shape = _single(
        "input shape", "Input shape(s) of the layer's calls, if they all agree."
    )
    output_shape = _single(
        "output shape", "Output shape(s) of the layer's calls, if they all agree."
    )
    input_mask = _single("input mask", "Input mask(s) of the layer's only call.")
    output_mask = _single("output mask", "Output mask(s) of the layer's only call.")

    get_input_at = _at("input", "Input tensor(s) of call number `node_index`.")
    get_output_at = _at("output", "Output tensor(s) of call number `node_index`.")
    get_input_shape_at = _at(
        "input shape",
        "Input shape(s) of call number `node_index`, e.g. `(None, 32, 32, 3)`.",
    )
    get_output_shape_at = _at(
        "output shape", "Output shape(s) of call number `node_index`."
    )
    get_input_mask_at = _at("input mask", "Input mask(s) of call number `node_index`.")
    get_output_mask_at = _at(
        "output mask", "Output mask(s) of call number `node_index`."
    )

    @property
    def inbound_nodes(self) -> list[Node]:
        """The layer's calls on symbolic tensors, in order."""
        return list(self._inbound_nodes)
