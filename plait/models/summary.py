"""`model.summary()`: a rich table of layers, shapes, parameters and connections."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from plait.utils.shapes import format_shape

__all__ = ["print_summary"]


def _bytes(n: int) -> str:
    size = float(n * 4)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:.2f} GB"


def _output_shape(layer: Any) -> str:
    nodes = [n for n in layer._inbound_nodes if not n.is_model_self_node]
    if not nodes:
        return "?"
    shapes = [t.shape for t in nodes[0].output_tensors]
    return format_shape(shapes[0] if len(shapes) == 1 else shapes)


def _connections(model: Any, layer: Any) -> str:
    relevant = {id(n) for n in model._topology.nodes}
    parts = []
    for node in layer._inbound_nodes:
        if id(node) not in relevant:
            continue
        for t in node.input_tensors:
            h = t._history
            if h is not None:
                parts.append(f"{h.layer.name}[{h.node_index}][{h.tensor_index}]")
    return "\n".join(parts) if parts else "-"


def _is_chain(model: Any) -> bool:
    from plait.models.sequential import Sequential

    return isinstance(model, Sequential)


def print_summary(
    model: Any,
    line_length: int | None = None,
    print_fn: Callable[..., Any] | None = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
) -> None:
    """Render `model.summary()`; see `Model.summary` for the arguments."""
    # An unbuilt Sequential has no graph yet: its layers are listed unbuilt.
    functional = bool(model.built) and hasattr(model, "_topology")
    connected = functional and not _is_chain(model)
    title = f'Model: "{model.name}"'
    table = Table(
        title=title, box=box.SIMPLE_HEAD, show_lines=False, title_justify="left"
    )
    table.add_column("Layer (type)", no_wrap=True)
    table.add_column("Output Shape", no_wrap=True)
    table.add_column("Param #", justify="right")
    if connected:
        table.add_column("Connected to")
    if show_trainable:
        table.add_column("Trainable")

    def add_rows(m: Any, indent: str) -> None:
        for layer in m.layers:
            built = layer.built
            params = f"{layer.count_params():,}" if built else "0 (unbuilt)"
            row = [
                f"{indent}{layer.name} ({type(layer).__name__})",
                _output_shape(layer),
                params,
            ]
            if connected:
                row.append(_connections(m, layer) if hasattr(m, "_topology") else "-")
            if show_trainable:
                row.append("Y" if layer.trainable else "N")
            table.add_row(*row)
            if expand_nested and hasattr(layer, "layers") and layer is not m:
                add_rows(layer, indent + "  ")

    add_rows(model, "")
    weights = model.weights
    total = sum(p.numel() for p in weights)
    trainable = sum(p.numel() for p in weights if p.requires_grad)
    lines = [
        f" Total params: {total:,} ({_bytes(total)})",
        f" Trainable params: {trainable:,} ({_bytes(trainable)})",
        f" Non-trainable params: {total - trainable:,} ({_bytes(total - trainable)})",
    ]
    width = line_length or 100
    if print_fn is None:
        console = Console()
        # Off a terminal rich assumes 80 columns; a summary needs more.
        console = Console(width=line_length or max(console.width, 100))
        console.print(table)
        for line in lines:
            console.print(line, highlight=False)
        return
    buffer = io.StringIO()
    Console(file=buffer, width=width, no_color=True, force_terminal=False).print(table)
    for line in buffer.getvalue().rstrip("\n").split("\n"):
        print_fn(line)
    for line in lines:
        print_fn(line)
