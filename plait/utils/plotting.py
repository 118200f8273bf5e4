"""`plot_model` and `model_to_dot`: a model's graph drawn by Graphviz, through pydot.

This module sits at the bottom of the house, so it knows models only by their
public attributes: `layers`, `inputs`, `outputs`, `built`, and the node API of
symbolic tensors (`tensor.node`, `tensor._history`, `node.input_tensors`,
`node.output_tensors`, `node.layer`). A graph model is one with `inputs` and
`outputs`; anything else (a subclassed model) is drawn as its layers, unlinked.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

__all__ = ["model_to_dot", "plot_model"]

_IMAGES = ("png", "svg", "pdf", "jpg", "jpeg", "gif", "ps", "eps")
_TEXT = ("dot", "gv")  # the DOT source itself: no Graphviz needed
_INSTALL = (
    "plot_model/model_to_dot need pydot: `pip install pydot` (or "
    "`pip install 'plait[plot]'`); writing images also needs Graphviz's `dot` "
    "program (https://graphviz.org/download/, e.g. `apt-get install graphviz`)."
)


def _pydot() -> Any:
    try:
        import pydot
    except ImportError as err:
        raise ImportError(_INSTALL) from err
    return pydot


def _is_graph_model(layer: Any) -> bool:
    try:
        return bool(layer.built) and bool(layer.outputs) and hasattr(layer, "layers")
    except (AttributeError, ValueError, RuntimeError):
        return False


def _graph_nodes(model: Any) -> list[Any]:
    """The calls of `model`'s graph, producers first: a walk back from its outputs."""
    input_ids = {id(t) for t in model.inputs}
    seen: set[int] = set()
    order: list[Any] = []
    for out in model.outputs:
        stack: list[tuple[Any, int]] = [(out, 0)]
        while stack:
            tensor, stage = stack.pop()
            node = tensor.node
            if node is None or (stage == 0 and id(node) in seen):
                continue
            is_input = getattr(node.layer, "_is_input_layer", False) is True
            if id(tensor) in input_ids and not is_input:
                continue  # a model input cut out of a bigger graph
            if stage == 1:
                order.append(node)
                continue
            seen.add(id(node))
            stack.append((tensor, 1))
            stack.extend((t, 0) for t in reversed(node.input_tensors))
    # Model inputs no output needs are drawn too, as Keras does.
    for t in model.inputs:
        node = t.node
        if node is not None and id(node) not in seen:
            seen.add(id(node))
            order.insert(0, node)
    return order


def _describe(values: list[Any], fmt: Any) -> str:
    """One value when every call agrees, else Keras's "multiple"."""
    distinct = {repr(v) for v in values}
    if not values:
        return "?"
    return fmt(values[0]) if len(distinct) == 1 else "multiple"


def _one_or_list(items: list[Any]) -> Any:
    return items[0] if len(items) == 1 else items


def _label(layer: Any, calls: list[Any], opts: dict[str, Any]) -> str:
    # Deferred: `plait.utils` (and so this module) stays light to import.
    from plait.utils.shapes import dtype_name, format_shape

    kind = type(layer).__name__
    lines = [f"{layer.name} ({kind})" if opts["show_layer_names"] else kind]
    if opts["show_layer_activations"]:
        act = getattr(layer, "activation", None)
        if callable(act):
            name = getattr(act, "__name__", None) or type(act).__name__
            lines.append(f"Activation: {name}")
    is_input = getattr(layer, "_is_input_layer", False) is True

    def ins(node: Any) -> list[Any]:
        return node.output_tensors if is_input else node.input_tensors

    if opts["show_shapes"]:
        shapes_in = [_one_or_list([t.shape for t in ins(n)]) for n in calls]
        shapes_out = [_one_or_list([t.shape for t in n.output_tensors]) for n in calls]
        lines.append(f"Input shape: {_describe(shapes_in, format_shape)}")
        lines.append(f"Output shape: {_describe(shapes_out, format_shape)}")
    if opts["show_dtype"]:

        def dtypes(ts: list[Any]) -> str:
            names = [dtype_name(t.dtype) for t in ts]
            return names[0] if len(names) == 1 else "[" + ", ".join(names) + "]"

        lines.append(f"Input dtype: {_describe([ins(n) for n in calls], dtypes)}")
        out_dtypes = [n.output_tensors for n in calls]
        lines.append(f"Output dtype: {_describe(out_dtypes, dtypes)}")
    if opts["show_trainable"]:
        lines.append(f"Trainable: {bool(getattr(layer, 'trainable', True))}")
    return "\\n".join(lines)  # DOT's own line break


class _Drawer:
    """Adds one model's layers and links to a pydot graph, clusters for nested models."""

    def __init__(self, pydot: Any, opts: dict[str, Any]) -> None:
        self.pydot = pydot
        self.opts = opts

    def expanded(self, layer: Any) -> bool:
        return bool(self.opts["expand_nested"]) and _is_graph_model(layer)

    def source(self, tensor: Any) -> str | None:
        """The drawn node a tensor leaves from (inside an expanded model if need be)."""
        history = tensor._history
        if history is None:
            return None
        layer = history.layer
        if self.expanded(layer):
            return self.source(layer.outputs[history.tensor_index])
        return str(id(layer))

    def targets(self, layer: Any, position: int) -> list[str]:
        """The drawn nodes that take a call's input number `position`."""
        if not self.expanded(layer):
            return [str(id(layer))]
        inner = layer.inputs[min(position, len(layer.inputs) - 1)]
        node = inner.node
        if node is not None and getattr(node.layer, "_is_input_layer", False):
            return self.targets(node.layer, 0)
        return [
            str(id(n.layer))
            for n in _graph_nodes(layer)
            if any(t is inner for t in n.input_tensors)
        ]

    def draw(self, model: Any, graph: Any) -> None:
        if not _is_graph_model(model):
            for layer in getattr(model, "layers", []):
                self.add_layer(layer, [], graph)
            return
        nodes = _graph_nodes(model)
        calls: dict[int, list[Any]] = {}
        layers: list[Any] = []
        for node in nodes:
            if id(node.layer) not in calls:
                layers.append(node.layer)
            calls.setdefault(id(node.layer), []).append(node)
        for layer in layers:
            self.add_layer(layer, calls[id(layer)], graph)
        for node in nodes:
            for position, tensor in enumerate(node.input_tensors):
                src = self.source(tensor)
                if src is None:
                    continue
                for dst in self.targets(node.layer, position):
                    graph.add_edge(self.pydot.Edge(src, dst))

    def add_layer(self, layer: Any, calls: list[Any], graph: Any) -> None:
        if self.expanded(layer):
            cluster = self.pydot.Cluster(
                graph_name=str(id(layer)), label=layer.name, style="dashed"
            )
            graph.add_subgraph(cluster)
            self.draw(layer, cluster)
            return
        graph.add_node(
            self.pydot.Node(str(id(layer)), label=_label(layer, calls, self.opts))
        )


def model_to_dot(
    model: Any,
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    subgraph: bool = False,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    **kwargs: Any,
) -> Any:
    """Convert a model to a `pydot.Dot` graph (Keras 3's `keras.utils.model_to_dot`).

    Each layer is one node (a layer called several times, a shared layer, is one
    node with an edge per call); a nested model is one node, or with
    `expand_nested=True` a dashed cluster holding its own layers. Node names are
    `str(id(layer))`; labels read "name (Class)" and, when asked, the input and
    output shapes ("(None, 784)"), dtypes, activation and trainability.

    Args:
        model: A built model (a graph model: one with `inputs` and `outputs`;
            other models are drawn as their layers, without edges).
        show_shapes: Add the input and output shapes ("multiple" when a shared
            layer's calls differ).
        show_dtype: Add the input and output dtypes.
        show_layer_names: Start each label with the layer's name.
        rankdir: Graphviz's direction: "TB" (vertical) or "LR" (horizontal).
        expand_nested: Draw nested models as clusters of their layers.
        dpi: Image resolution in dots per inch.
        subgraph: Return a `pydot.Cluster` instead of a `pydot.Dot`.
        show_layer_activations: Add the activation of layers that have one.
        show_trainable: Add whether each layer is trainable.

    Raises:
        ImportError: pydot is not installed.
        ValueError: The model is not built.
        TypeError: An unknown keyword argument.
    """
    if kwargs:
        raise TypeError(
            f"model_to_dot(): expected no other keyword arguments, got "
            f"{sorted(kwargs)} (Keras 3 dropped `layer_range`)."
        )
    if not getattr(model, "built", False):
        raise ValueError(
            f"model_to_dot(): expected a built model, got {getattr(model, 'name', model)!r}"
            f" unbuilt; build it (call it on data or give it an Input) first."
        )
    pydot = _pydot()
    opts = {
        "show_shapes": show_shapes,
        "show_dtype": show_dtype,
        "show_layer_names": show_layer_names,
        "show_layer_activations": show_layer_activations,
        "show_trainable": show_trainable,
        "expand_nested": expand_nested,
    }
    if subgraph:
        graph = pydot.Cluster(
            graph_name=str(id(model)), label=model.name, style="dashed"
        )
    else:
        graph = pydot.Dot(graph_type="digraph", rankdir=rankdir, dpi=str(dpi))
        graph.set_node_defaults(shape="box")
    _Drawer(pydot, opts).draw(model, graph)
    return graph


def plot_model(
    model: Any,
    to_file: str = "model.png",
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = False,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    **kwargs: Any,
) -> Any:
    """Draw a model's graph to an image file (Keras 3's `keras.utils.plot_model`).

    The file's extension picks the format: `.png`, `.svg`, `.pdf` (also `.jpg`,
    `.gif`, `.ps`, `.eps`), or `.dot`/`.gv` for the DOT text itself (no Graphviz
    needed); no extension means PNG. The other arguments are `model_to_dot`'s; as
    in Keras 3, layer names are off by default here.

    Returns:
        An `IPython.display.Image` of the picture when IPython is installed (it
        shows inline in a notebook), else None; None for PDF and DOT files.

    Raises:
        ImportError: pydot is missing, or Graphviz's `dot` program for images.
        ValueError: An unknown file extension; an unbuilt model.
    """
    ext = os.path.splitext(os.fspath(to_file))[1].lstrip(".").lower() or "png"
    if ext not in (*_IMAGES, *_TEXT):
        raise ValueError(
            f"plot_model(to_file=...): expected an extension among "
            f"{['.' + f for f in (*_IMAGES, *_TEXT)]}, got {to_file!r}."
        )
    dot = model_to_dot(
        model,
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        rankdir=rankdir,
        expand_nested=expand_nested,
        dpi=dpi,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
        **kwargs,
    )
    if ext in _TEXT:
        data: bytes = dot.to_string().encode("utf-8")
    else:
        if shutil.which("dot") is None:
            raise ImportError(_INSTALL)
        data = dot.create(prog="dot", format=ext)
    with open(to_file, "wb") as f:
        f.write(data)
    if ext in ("pdf", *_TEXT):
        return None
    try:  # as in Keras: shown inline in a notebook
        from IPython import display
    except ImportError:
        return None
    return display.Image(filename=os.fspath(to_file))
